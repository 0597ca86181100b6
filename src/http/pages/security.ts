import { bodyLimit } from "hono/body-limit";
import { csrf } from "hono/csrf";
import { NONCE, secureHeaders } from "hono/secure-headers";
import { PortalRefusal } from "./errors";

/** Forms carry a choice and a few tokens: a few kilobytes is plenty, and nothing larger is read. */
const FORM_LIMIT_BYTES = 16 * 1024;

/**
 * What every page route (portal and console) runs behind: a CSP that allows this origin's stylesheet and only the
 * script carrying the page's nonce; forms from this origin only (Origin, or Sec-Fetch-Site where a browser sends no
 * Origin); bounded form bodies.
 */
export const pageSecurity = [
  secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: [NONCE],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
  }),
  csrf(),
  bodyLimit({
    maxSize: FORM_LIMIT_BYTES,
    onError: () => {
      throw new PortalRefusal(413, "Request too large", "The form sent more than this page ever sends.");
    },
  }),
] as const;
