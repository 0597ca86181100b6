import { colord, extend } from "colord";
import a11yPlugin from "colord/plugins/a11y";
import { fromBase64 } from "../../lib/base64";
import { logEvent } from "../../lib/log";

extend([a11yPlugin]);

/**
 * The vendor's brand on every page the customer sees: a one-time link to a page that asks for provisioning
 * credentials must look like the vendor's own, or it looks like phishing. Set per deployment (wrangler vars); a
 * setting that is not valid is ignored with a warning, so a typo never takes the pages down.
 */
export interface Brand {
  /** The product's name: the header, every title, the Continue step. */
  name: string;
  /** How sentences name the product: its name when the vendor set one, else "the product". */
  product: string;
  logo: Logo | null;
  colors: BrandColors;
  /** Where the customer's admin asks for help (https or mailto), or null for no link. */
  supportUrl: string | null;
}

export interface Logo {
  type: string;
  bytes: Uint8Array;
}

/**
 * The accent and the colours derived from it. `accent` fills buttons, whose text (`onAccent`) is black or white,
 * whichever contrasts more (at least 4.58:1 for any colour). `text` is the accent darkened until it reads at 4.5:1
 * on the pages' lightest and darkest backgrounds: links, the current tab, the buttons' outlines. So `#ffff00` stays
 * yellow on buttons and turns olive in text, and no accent can make a page fail WCAG AA.
 */
export interface BrandColors {
  accent: string;
  onAccent: string;
  text: string;
}

export const DEFAULT_BRAND_NAME = "Directory sync";
export const DEFAULT_ACCENT = "#2456c9";
/** The backgrounds text sits on (PORTAL_CSS's --paper and --wash); the accent's text colour must read on both. */
const BACKGROUNDS = ["#ffffff", "#f4f6f9"];
const AA_TEXT = 4.5;
/** Longer names are cut: the header has one line for the name beside the logo. */
const MAX_NAME = 60;
const LOGO_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"]);

export function brandColors(accentSetting: string): BrandColors {
  const accent = colord(accentSetting).toHex();
  const onAccent = colord(accent).contrast("#000000") >= colord(accent).contrast("#ffffff") ? "#000000" : "#ffffff";
  // Measured on the hex the stylesheet will carry (rounded); HSL steps of 2% reach black (21:1) in at most 50.
  let text = accent;
  while (BACKGROUNDS.some((background) => colord(text).contrast(background) < AA_TEXT)) {
    text = colord(text).darken(0.02).toHex();
  }
  return { accent, onAccent, text };
}

/** A data URI's image (`data:image/svg+xml;base64,…`, or percent-encoded), or null when it is not one. */
export function parseLogo(setting: string): Logo | null {
  const match = /^data:(?<type>[a-z+/]+)(?<base64>;base64)?,(?<data>.+)$/s.exec(setting.trim());
  const { type = "", base64, data = "" } = match?.groups ?? {};
  if (!LOGO_TYPES.has(type)) return null;
  try {
    const bytes = base64 ? fromBase64(data) : new TextEncoder().encode(decodeURIComponent(data));
    return bytes.length > 0 ? { type, bytes } : null;
  } catch {
    return null;
  }
}

function supportLink(setting: string): string | null {
  if (URL.canParse(setting)) {
    const url = new URL(setting);
    if (url.protocol === "https:" || url.protocol === "mailto:") return url.href;
  }
  return null;
}

/** The settings a deployment brands its pages with; `BRAND_NAME` etc. in wrangler.toml's vars. */
type BrandSettings = Pick<Env, "BRAND_NAME" | "BRAND_LOGO" | "BRAND_COLOR" | "BRAND_SUPPORT_URL">;

/** One setting's value, or its default with a warning when it is set but not valid. */
function setting<T>(name: keyof BrandSettings, value: string | undefined, parse: (value: string) => T | null) {
  if (!value?.trim()) return null;
  const parsed = parse(value.trim());
  if (parsed === null) logEvent("warn", "brand_setting_ignored", { setting: name });
  return parsed;
}

export function parseBrand(settings: BrandSettings): Brand {
  // By code point: a cut through an emoji would leave half of it.
  const name = setting("BRAND_NAME", settings.BRAND_NAME, (value) => Array.from(value).slice(0, MAX_NAME).join(""));
  const accent = setting("BRAND_COLOR", settings.BRAND_COLOR, (value) =>
    /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(value) ? value : null,
  );
  return {
    name: name ?? DEFAULT_BRAND_NAME,
    product: name ?? "the product",
    logo: setting("BRAND_LOGO", settings.BRAND_LOGO, parseLogo),
    colors: brandColors(accent ?? DEFAULT_ACCENT),
    supportUrl: setting("BRAND_SUPPORT_URL", settings.BRAND_SUPPORT_URL, supportLink),
  };
}

/** A deployment's settings do not change while an isolate lives: parsed (and warned about) once per env object. */
const parsed = new WeakMap<BrandSettings, Brand>();

export function brandOf(env: BrandSettings): Brand {
  let brand = parsed.get(env);
  if (!brand) {
    brand = parseBrand(env);
    parsed.set(env, brand);
  }
  return brand;
}

/** The stylesheet's brand variables, placed before PORTAL_CSS, which uses them. */
export const brandCss = ({ colors }: Brand) =>
  `:root { --accent: ${colors.accent}; --on-accent: ${colors.onAccent}; --brand: ${colors.text}; }\n`;

/** The tab's icon when there is no logo: the default mark on the accent. */
export const defaultIcon = ({ colors }: Brand) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="${colors.accent}"/><path d="M9 11h14M9 16h14M9 21h9" stroke="${colors.onAccent}" stroke-width="2.5" stroke-linecap="round"/></svg>`;
