import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import {
  type AccessConfig,
  type ConsoleSignIn,
  type ConsoleSignInSettings,
  checkAccessAssertion,
  consoleSignIn,
} from "../../src/oauth/access";

const AUD = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";
const TEAM = "vendor-ops.cloudflareaccess.com";
const CERTS = "https://vendor-ops.cloudflareaccess.com/cdn-cgi/access/certs";

type Accepted = Omit<Extract<ConsoleSignIn, { ok: true }>, "ok">;

describe("the console's sign-in settings", () => {
  const accepted: [string, ConsoleSignInSettings, Accepted][] = [
    ["nothing set: the key, as before", {}, { access: null, keySignIn: true }],
    ["nothing set but an empty pair", { ACCESS_TEAM_DOMAIN: "", ACCESS_AUD: " " }, { access: null, keySignIn: true }],
    ["the key turned off, without Access", { CONSOLE_KEY_SIGN_IN: "off" }, { access: null, keySignIn: false }],
    [
      "Access: the key off by default",
      { ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD },
      { access: { issuer: `https://${TEAM}`, audience: AUD, certsUrl: CERTS }, keySignIn: false },
    ],
    [
      "Access as its dashboard writes it (https://, a trailing slash, upper case), the key on",
      {
        ACCESS_TEAM_DOMAIN: `https://${TEAM.toUpperCase()}/`,
        ACCESS_AUD: AUD.toUpperCase(),
        CONSOLE_KEY_SIGN_IN: "on",
      },
      { access: { issuer: `https://${TEAM}`, audience: AUD, certsUrl: CERTS }, keySignIn: true },
    ],
    ...["http://127.0.0.1:8787/jwks/a", "http://[::1]:8787/jwks/a", "http://localhost:8787/jwks/a"].map(
      (url): [string, ConsoleSignInSettings, Accepted] => [
        `keys from a test's issuer at ${url}`,
        { ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, ACCESS_CERTS_URL: url },
        { access: { issuer: `https://${TEAM}`, audience: AUD, certsUrl: url }, keySignIn: false },
      ],
    ),
  ];
  it.each(accepted)("%s", (_, settings, expected) => {
    expect(consoleSignIn(settings)).toEqual({ ok: true, ...expected });
  });

  const refused: [string, ConsoleSignInSettings, string][] = [
    ["the team domain alone", { ACCESS_TEAM_DOMAIN: TEAM }, "go together"],
    ["the AUD alone", { ACCESS_AUD: AUD }, "go together"],
    [
      "a team domain elsewhere",
      { ACCESS_TEAM_DOMAIN: "vendor-ops.example.com", ACCESS_AUD: AUD },
      "ACCESS_TEAM_DOMAIN",
    ],
    ["a look-alike team domain", { ACCESS_TEAM_DOMAIN: `${TEAM}.evil.test`, ACCESS_AUD: AUD }, "ACCESS_TEAM_DOMAIN"],
    ["a team domain with a path", { ACCESS_TEAM_DOMAIN: `${TEAM}/x`, ACCESS_AUD: AUD }, "ACCESS_TEAM_DOMAIN"],
    ["a team domain over http", { ACCESS_TEAM_DOMAIN: `http://${TEAM}`, ACCESS_AUD: AUD }, "ACCESS_TEAM_DOMAIN"],
    ["an AUD that is no tag", { ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: "console" }, "ACCESS_AUD"],
    [
      "keys off loopback",
      { ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, ACCESS_CERTS_URL: "https://keys.example.com/certs" },
      "ACCESS_CERTS_URL",
    ],
    [
      "keys from loopback over another scheme",
      { ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, ACCESS_CERTS_URL: "file://localhost/etc/keys" },
      "ACCESS_CERTS_URL",
    ],
    ["a key switch neither on nor off", { CONSOLE_KEY_SIGN_IN: "true" }, "CONSOLE_KEY_SIGN_IN"],
  ];
  it.each(refused)("refuses %s", (_, settings, named) => {
    const refused = consoleSignIn(settings);
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.reason).toContain(named);
  });
});

describe("an Access assertion", () => {
  const config: AccessConfig = { issuer: `https://${TEAM}`, audience: AUD, certsUrl: CERTS };
  const now = 1_900_000_000_000;

  async function signed(claims: Record<string, unknown>) {
    const { publicKey, privateKey } = await generateKeyPair("RS256");
    const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: "k", alg: "RS256" }] });
    const seconds = now / 1000;
    const token = await new SignJWT({ iss: config.issuer, aud: [AUD], iat: seconds, exp: seconds + 600, ...claims })
      .setProtectedHeader({ alg: "RS256", kid: "k" })
      .sign(privateKey);
    return { token, keys };
  }

  it.each([
    ["a person, by email", { email: "alice@vendor.example", sub: "x" }, { kind: "user", name: "alice@vendor.example" }],
    [
      "a service token, by common name",
      { common_name: "abc.access", sub: "" },
      { kind: "service", name: "abc.access" },
    ],
  ])("names %s", async (_, claims, identity) => {
    const { token, keys } = await signed(claims);
    expect(await checkAccessAssertion(token, config, keys, now)).toEqual({ ok: true, identity });
  });

  it("allows a minute of clock skew, no more", async () => {
    const { token, keys } = await signed({ email: "a@b.example", exp: now / 1000 - 30 });
    expect((await checkAccessAssertion(token, config, keys, now)).ok).toBe(true);
    expect(await checkAccessAssertion(token, config, keys, now + 60_000)).toEqual({
      ok: false,
      reason: "ERR_JWT_EXPIRED",
    });
  });

  it("refuses an email too long to be one", async () => {
    const { token, keys } = await signed({ email: `${"a".repeat(320)}@b.example` });
    expect(await checkAccessAssertion(token, config, keys, now)).toEqual({
      ok: false,
      reason: "neither email nor common_name",
    });
  });
});
