import { mappingsFor } from "./entra-mappings";

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

/**
 * Plain-language help for a failed request of Entra's, from what the failed-request log keeps (no bodies): the
 * failures that stop a sync, and what fixes them. Pure, so every wording is tested on its own.
 */
export function failureHint(f: FailureFacts): FailureHint {
  const detail = f.detail ?? "";
  const quoted = /"([^"]+)"/.exec(detail)?.[1];
  if (f.status === 409 && f.scimType === "uniqueness") {
    const group = f.path.includes("/Groups");
    return {
      title: group ? "A group with this name already exists" : "A user with this userName already exists",
      advice: group
        ? "Entra tried to create a group whose displayName another group of this account already has. Rename one of them in Entra, or remove the stale group here."
        : "Entra matches an existing user first by externalId (mailNickname), then by userName (userPrincipalName); a user the product created with the same email is adopted, not duplicated. Here Entra tried to create a user although another user of this account already has its userName, so it did not match that user (a different or missing externalId, or a repeated create). Check that user: remove it if it is a leftover, or fix the mapping so both sides agree.",
      // A user's userName, to look it up among the users (groups have no search).
      name: group ? undefined : quoted,
    };
  }
  if (f.status === 409 || f.status === 412) {
    return {
      title: "Changed by two requests at once",
      advice:
        "Another change to the same user or group arrived at the same moment. Entra retries on its own; nothing to do unless it repeats.",
    };
  }
  if (f.status === 429) {
    return {
      title: "Too many requests",
      advice:
        "Entra sent requests faster than this account's rate limit allows. Entra slows down and retries on its own; if it keeps happening, ask the vendor about the limit.",
    };
  }
  if (f.status === 400 && /quota/i.test(detail)) {
    return {
      title: "The account is at its limit",
      advice:
        "The account holds as many users, groups or bytes as its quota allows, so new ones are refused. Ask the vendor to raise the quota; Entra retries the refused ones.",
    };
  }
  if (f.status === 400) {
    // The attribute the detail starts with: `emails…`, `"title"…`, or an extension's `urn:…:2.0:User:department`.
    const named = /^"?([A-Za-z][\w:.]*)/.exec(detail)?.[1] ?? "";
    const attribute = (named.startsWith("urn:") ? named.slice(named.lastIndexOf(":") + 1) : named).split(".")[0] ?? "";
    const mapped = attribute ? mappingsFor(attribute) : [];
    const mapping = mapped.map(([source, target]) => `${source} → ${target}`).join(", ");
    return {
      title: "Entra sent a value that was refused",
      advice: mapping
        ? `${detail} Check the attribute mapping in Entra (Provisioning → Mappings): ${mapping}.`
        : `${detail} Check the attribute mappings in Entra (Provisioning → Mappings) against the setup guide.`,
    };
  }
  if (f.status === 404) {
    return {
      title: "Entra referred to a user or group that is not here",
      advice:
        "It was deleted here, or never arrived. Entra creates or skips it on its next cycle; if this repeats for many users, use Restart provisioning in Entra.",
    };
  }
  if (f.status === 413) {
    return {
      title: "The request was too large",
      advice:
        "Entra sent more than a request may carry (for example a very large group at once). Entra splits its work on retries; if this repeats, ask the vendor.",
    };
  }
  if (f.status >= 500) {
    return {
      title: "A temporary problem on this side",
      advice: "Nothing was changed. Entra retries on its own; if it lasts, ask the vendor.",
    };
  }
  return { title: `Refused with status ${f.status}`, advice: detail || "Entra retries on its own." };
}
