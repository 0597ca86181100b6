import type { Child } from "hono/jsx";
import type { Provider } from "../../../scim/providers";

/**
 * Each directory's mark, drawn here in the spirit of its own (its shape and colour) so the customer's admin finds
 * theirs at a glance: inline SVG, no third-party image and nothing for the CSP to allow. Keyed by Provider, so a new
 * provider without a mark fails the compiler. Decorative: the provider's name is always written beside it.
 */
const MARKS: Record<Provider, Child> = {
  // Entra ID: a pyramid of blue facets.
  entra: (
    <>
      <path d="M18 3 31 21 18 33 5 21Z" fill="#0078d4" />
      <path d="M18 3 24 21 18 33Z" fill="#50b4f0" />
      <path d="M5 21 18 26 31 21 18 33Z" fill="#0f4f9e" />
    </>
  ),
  // Okta: its ring.
  okta: <circle cx="18" cy="18" r="10.5" fill="none" stroke="#007dc1" stroke-width="6" />,
  // OneLogin: a white 1 on a dark tile.
  onelogin: (
    <>
      <rect width="36" height="36" rx="8" fill="#1c1f2a" />
      <path d="M15 12.5 19.5 10H21v16h-3.2V14.2l-2.8 1.5Z" fill="#fff" />
    </>
  ),
  // JumpCloud: a teal cloud.
  jumpcloud: (
    <path
      d="M10 27a6 6 0 0 1-.6-12A8.5 8.5 0 0 1 26 13.6 6.7 6.7 0 0 1 26.5 27Z"
      fill="#14a3a1"
      stroke="#0b5f5e"
      stroke-width="1.5"
    />
  ),
  // PingOne: a white P on Ping Identity's red.
  pingone: (
    <>
      <rect width="36" height="36" rx="18" fill="#b3282d" />
      <path d="M13 27V9h6.5a5.5 5.5 0 0 1 0 11H16.4v7Zm3.4-10h3a2.5 2.5 0 0 0 0-5h-3Z" fill="#fff" />
    </>
  ),
  // Any other SCIM directory: an address card.
  scim: (
    <>
      <rect x="3" y="7" width="30" height="22" rx="4" fill="#e6eaf0" stroke="#4f5b6d" stroke-width="1.5" />
      <circle cx="12" cy="16" r="3.2" fill="#4f5b6d" />
      <path d="M7 24a5 5 0 0 1 10 0Z" fill="#4f5b6d" />
      <path d="M20 14h9M20 18h9M20 22h6" stroke="#4f5b6d" stroke-width="1.8" stroke-linecap="round" />
    </>
  ),
};

export const ProviderIcon = ({ provider }: { provider: Provider }) => (
  <svg class="provider-icon" viewBox="0 0 36 36" aria-hidden="true" focusable="false">
    {MARKS[provider]}
  </svg>
);
