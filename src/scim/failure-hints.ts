import { mappingsFor, PROVIDER_NAMING } from "./provider-mappings";
import type { Provider } from "./providers";

export interface FailureFacts {
  method: string;
  path: string;
  status: number;
  scimType: string | null;
  detail: string | null;
}

export interface FailureHint {
  /** What went wrong, in a line. */
  title: string;
  /** What the customer's admin can do about it. */
  advice: string;
  /** A userName or group name the failure is about, for a link to it. */
  name?: string;
}

const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * Plain-language help for a failed request, from what the failed-request log keeps (no bodies): the failures that
 * stop a sync, and what fixes them, in the words of the directory that sent it (its name, where its console keeps
 * the mappings, its attribute names: provider-mappings.ts). Entra's own behaviour (its retries, its matching by
 * mailNickname, Restart provisioning) is named for Entra only; for the others the advice claims nothing about what
 * the directory does next. Pure, so every wording is tested on its own.
 */
export function failureHint(f: FailureFacts, provider: Provider = "entra"): FailureHint {
  const entra = provider === "entra";
  const { short, mappingsAt } = PROVIDER_NAMING[provider];
  const Short = capitalized(short);
  const detail = f.detail ?? "";
  const quoted = /"([^"]+)"/.exec(detail)?.[1];
  if (f.status === 409 && f.scimType === "uniqueness") {
    const group = f.path.includes("/Groups");
    return {
      title: group ? "A group with this name already exists" : "A user with this userName already exists",
      advice: group
        ? `${Short} tried to create a group whose displayName another group of this account already has. Rename one of them in ${short}, or remove the stale group here.`
        : entra
          ? "Entra matches an existing user first by externalId (mailNickname), then by userName (userPrincipalName); a user the product created with the same email is adopted, not duplicated. Here Entra tried to create a user although another user of this account already has its userName, so it did not match that user (a different or missing externalId, or a repeated create). Check that user: remove it if it is a leftover, or fix the mapping so both sides agree."
          : `${Short} tried to create a user although another user of this account already has its userName, so it did not match that user. Check that user: remove it if it is a leftover, or fix the userName mapping in ${short} (${mappingsAt}${userNameFrom(provider)}) so both sides agree.`,
      // A user's userName, to look it up among the users (groups have no search).
      name: group ? undefined : quoted,
    };
  }
  if (f.status === 409 || f.status === 412) {
    return {
      title: "Changed by two requests at once",
      advice: entra
        ? "Another change to the same user or group arrived at the same moment. Entra retries on its own; nothing to do unless it repeats."
        : `Another change to the same user or group arrived at the same moment, so this one was not applied. If the change is missing here, send it again from ${short}; nothing to do unless it repeats.`,
    };
  }
  if (f.status === 429) {
    return {
      title: "Too many requests",
      advice: entra
        ? "Entra sent requests faster than this account's rate limit allows. Entra slows down and retries on its own; if it keeps happening, ask the vendor about the limit."
        : `${Short} sent requests faster than this account's rate limit allows, and the refused ones were not applied. If it keeps happening, ask the vendor about the limit.`,
    };
  }
  if (f.status === 400 && /quota/i.test(detail)) {
    return {
      title: "The account is at its limit",
      advice: `The account holds as many users, groups or bytes as its quota allows, so new ones are refused. Ask the vendor to raise the quota; ${entra ? "Entra retries the refused ones." : `then send the refused ones again from ${short}.`}`,
    };
  }
  if (f.status === 400) {
    // The attribute the detail starts with: `emails…`, `"title"…`, or an extension's `urn:…:2.0:User:department`.
    const named = /^"?([A-Za-z][\w:.]*)/.exec(detail)?.[1] ?? "";
    const attribute = (named.startsWith("urn:") ? named.slice(named.lastIndexOf(":") + 1) : named).split(".")[0] ?? "";
    const mapped = attribute ? mappingsFor(attribute, provider) : [];
    const mapping = mapped.map(([source, target]) => `${source} → ${target}`).join(", ");
    return {
      title: `${Short} sent a value that was refused`,
      advice: mapping
        ? `${detail} Check the attribute mapping in ${short} (${mappingsAt}): ${mapping}.`
        : `${detail} Check the attribute mappings in ${short} (${mappingsAt}) against the setup guide.`,
    };
  }
  if (f.status === 404) {
    return {
      title: `${Short} referred to a user or group that is not here`,
      advice: entra
        ? "It was deleted here, or never arrived. Entra creates or skips it on its next cycle; if this repeats for many users, use Restart provisioning in Entra."
        : `It was deleted here, or never arrived. If this repeats, send the user or group again from ${short} so it is created here.`,
    };
  }
  if (f.status === 413) {
    return {
      title: "The request was too large",
      advice: `${Short} sent more than a request may carry (for example a very large group at once). ${entra ? "Entra splits its work on retries; if" : "If"} this repeats, ask the vendor.`,
    };
  }
  if (f.status >= 500) {
    return {
      title: "A temporary problem on this side",
      advice: entra
        ? "Nothing was changed. Entra retries on its own; if it lasts, ask the vendor."
        : `Nothing was changed. If the change is missing once this passes, send it again from ${short}; if it lasts, ask the vendor.`,
    };
  }
  return {
    title: `Refused with status ${f.status}`,
    advice: detail || (entra ? "Entra retries on its own." : "Nothing was changed."),
  };
}

/** A failed request with its hint, in the words of the provider of the integration it was made to. */
export const withHint = <R extends FailureFacts>(row: R, provider: Provider) => ({
  ...row,
  hint: failureHint(row, provider),
});

/** ": <source> → userName" when the provider documents where its userName comes from; nothing otherwise. */
function userNameFrom(provider: Provider) {
  const [source] = mappingsFor("userName", provider)[0] ?? [];
  return source ? `: ${source} → userName` : "";
}
