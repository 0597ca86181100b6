import { describe, expect, it } from "vitest";
import { allowedPorts, type EndpointUrlPolicy, endpointUrlProblem } from "../../src/webhooks/endpoint-url";
import { MAX_ATTEMPTS, nextDelaySeconds, RETRY_DELAYS_SECONDS, retryAfterSeconds } from "../../src/webhooks/schedule";

describe("retry schedule", () => {
  const low = () => 0;
  const high = () => 0.999_999;

  it("tries again within 10 s first, then backs off to hours, over about three days", () => {
    expect(nextDelaySeconds(1, null, high)).toBeLessThanOrEqual(10);
    const delays = Array.from({ length: MAX_ATTEMPTS - 1 }, (_, i) => nextDelaySeconds(i + 1, null, low) as number);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1] as number);
    const days = RETRY_DELAYS_SECONDS.reduce((a, b) => a + b, 0) / 86_400;
    expect(days).toBeGreaterThan(2.5);
    expect(days).toBeLessThan(3.5);
    expect(nextDelaySeconds(MAX_ATTEMPTS, null)).toBeNull();
  });

  it.each([0, 0.5, 0.999_999])("jitters each delay within ±10 %% (random %s)", (r) => {
    for (const [i, base] of RETRY_DELAYS_SECONDS.entries()) {
      const delay = nextDelaySeconds(i + 1, null, () => r) as number;
      expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.9));
      expect(delay).toBeLessThanOrEqual(Math.min(86_400, Math.ceil(base * 1.1)));
    }
  });

  it("honours a longer Retry-After, never beyond a day", () => {
    expect(nextDelaySeconds(1, 120, low)).toBe(120);
    expect(nextDelaySeconds(3, 1, low)).toBe(1620);
    expect(nextDelaySeconds(1, 10 * 86_400, low)).toBe(86_400);
  });

  it.each([
    ["120", 120],
    [" 7 ", 7],
    ["Wed, 21 Oct 2015 07:28:30 GMT", 30],
    ["Wed, 21 Oct 2015 07:27:00 GMT", 0],
    ["soon", null],
    [null, null],
  ])("reads Retry-After %j as %j seconds", (header, seconds) => {
    expect(retryAfterSeconds(header, Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))).toBe(seconds);
  });
});

describe("endpoint URLs", () => {
  const strict: EndpointUrlPolicy = { allowHttp: false, allowedPorts: [] };
  const dev: EndpointUrlPolicy = { allowHttp: true, allowedPorts: [] };
  const INTERNAL = "must not name a loopback, private or link-local address";
  const SPECIAL = "must not name a special-purpose address";
  const TRAILING_DOT = "must not end its host name with a dot";
  const PORT = "must use the scheme's default port, or one WEBHOOK_ALLOWED_PORTS lists";

  it.each([
    ["https://hooks.example.com/scim", false, null],
    ["https://hooks.example.com/scim", true, null],
    ["http://hooks.example.com/scim", false, "must be https://"],
    ["http://hooks.example.com/scim", true, "must be https:// (or http:// to a loopback host)"],
    ["http://127.0.0.1:8787/hook", false, "must be https://"],
    ["http://127.0.0.1:8787/hook", true, null],
    ["http://localhost/hook", true, null],
    ["http://[::1]:9000/hook", true, null],
    ["http://127.0.0.1.example.com/hook", true, "must be https:// (or http:// to a loopback host)"],
    ["https://user:secret@hooks.example.com/", false, "must not carry credentials"],
    ["javascript:alert(1)", true, "must be https:// (or http:// to a loopback host)"],
    ["/relative", false, "must be an absolute URL"],
    ["https://127.0.0.1/hook", false, INTERNAL],
    ["https://127.0.0.1/hook", true, null],
    ["https://10.1.2.3/hook", true, INTERNAL],
    ["https://172.16.0.1/hook", false, INTERNAL],
    ["https://172.32.0.1/hook", false, null],
    ["https://192.168.1.10/hook", false, INTERNAL],
    ["https://169.254.169.254/latest/meta-data", false, INTERNAL],
    ["https://100.64.0.1/hook", false, INTERNAL],
    ["https://0.0.0.0/hook", false, INTERNAL],
    ["https://2130706433/hook", false, INTERNAL],
    ["https://localhost/hook", false, INTERNAL],
    ["https://api.localhost/hook", false, INTERNAL],
    ["https://[::1]/hook", false, INTERNAL],
    ["https://[fd00::1]/hook", false, INTERNAL],
    ["https://[fe80::1]/hook", false, INTERNAL],
    ["https://[::ffff:10.0.0.1]/hook", false, INTERNAL],
    ["https://[2606:4700::1]/hook", false, null],
    ["https://8.8.8.8/hook", false, null],
  ])("%s (http allowed: %s) → %j", (url, allowHttp, problem) => {
    expect(endpointUrlProblem(url, allowHttp ? dev : strict)).toBe(problem);
  });

  // Each refusal below holds with WEBHOOKS_ALLOW_HTTP too: it lets loopback in, nothing else.
  const refusedEitherWay = (url: string, problem: string) => {
    expect(endpointUrlProblem(url, strict)).toBe(problem);
    expect(endpointUrlProblem(url, dev)).toBe(problem);
  };

  it.each([
    "https://hooks.example.com./scim",
    "https://hooks.example.com../scim",
    "https://localhost./hook",
    "https://api.localhost./hook",
    "https://LOCALHOST./hook",
  ])("refuse a trailing-dot name: %s", (url) => refusedEitherWay(url, TRAILING_DOT));

  it.each([
    // The URL parser drops an IPv4 literal's trailing dot: these are addresses, classified as such.
    ["https://8.8.8.8./hook", strict, null],
    ["https://127.0.0.1./hook", strict, INTERNAL],
    ["https://127.0.0.1./hook", dev, null],
    // Not a loopback name, so not http:// either.
    ["http://localhost./hook", dev, "must be https:// (or http:// to a loopback host)"],
  ])("a trailing dot after an address, or on http://: %s → %j", (url, policy, problem) => {
    expect(endpointUrlProblem(url, policy)).toBe(problem);
  });

  it.each([
    ["https://[::8.8.8.8]/hook", SPECIAL], // ::/96, IPv4-compatible (deprecated)
    ["https://[::c000:201]/hook", SPECIAL],
    ["https://[::ffff:8.8.8.8]/hook", INTERNAL], // ::ffff:0:0/96, IPv4-mapped
    ["https://[::ffff:0:8.8.8.8]/hook", SPECIAL], // ::ffff:0:0:0/96, IPv4-translated
    ["https://[64:ff9b::8.8.8.8]/hook", SPECIAL], // 64:ff9b::/96, NAT64
    ["https://[64:ff9b::c612:1]/hook", SPECIAL],
    ["https://[64:ff9b:1::808:808]/hook", SPECIAL], // 64:ff9b:1::/48, local-use NAT64
    ["https://[2002:808:808::1]/hook", SPECIAL], // 2002::/16, 6to4
    ["https://[2002:c0a8:101::1]/hook", SPECIAL],
    ["https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook", SPECIAL], // 2001::/32, Teredo
  ])("refuse an IPv6 form that embeds an IPv4 address: %s", refusedEitherWay);

  it.each([
    "https://[fec0::1]/hook", // fec0::/10, site-local (deprecated)
    "https://[feff::1]/hook",
    "https://[ff02::1]/hook", // ff00::/8, multicast
    "https://[ff0e::101]/hook",
    "https://[100::1]/hook", // 100::/64, discard-only
    "https://[2001:db8::1]/hook", // 2001:db8::/32, documentation
    "https://[3fff::1]/hook", // 3fff::/20, documentation
    "https://[2001:2::1]/hook", // 2001:2::/48, benchmarking
    "https://[2001:1::1]/hook", // 2001::/23, IETF protocol assignments
    "https://[2001:10::1]/hook", // 2001:10::/28, ORCHID (deprecated)
    "https://[2001:20::1]/hook", // 2001:20::/28, ORCHIDv2
    "https://[5f00::1]/hook", // 5f00::/16, segment routing
    "https://[4000::1]/hook", // outside 2000::/3, the only block IANA allocates for global unicast
  ])("refuse a special-purpose or unallocated IPv6 block: %s", (url) => refusedEitherWay(url, SPECIAL));

  it.each([
    "https://192.0.0.1/hook", // 192.0.0.0/24, IETF protocol assignments
    "https://192.0.0.170/hook",
    "https://192.0.2.1/hook", // 192.0.2.0/24, documentation (TEST-NET-1)
    "https://198.51.100.7/hook", // 198.51.100.0/24, documentation (TEST-NET-2)
    "https://3325256705/hook", // the same, in decimal
    "https://203.0.113.9/hook", // 203.0.113.0/24, documentation (TEST-NET-3)
    "https://198.18.0.1/hook", // 198.18.0.0/15, benchmarking
    "https://0xc6120001/hook", // the same, in hex
    "https://0306.022.0.1/hook", // the same, in octal
    "https://198.19.255.254/hook",
    "https://192.88.99.1/hook", // 192.88.99.0/24, 6to4 relay anycast (deprecated)
    "https://224.0.0.1/hook", // 224.0.0.0/4, multicast
    "https://239.255.255.250/hook",
    "https://240.0.0.1/hook", // 240.0.0.0/4, reserved
    "https://255.255.255.255/hook", // limited broadcast
    "https://192.31.196.1/hook", // 192.31.196.0/24, AS112
    "https://192.175.48.1/hook", // 192.175.48.0/24, AS112 direct delegation
    "https://192.52.193.1/hook", // 192.52.193.0/24, AMT
  ])("refuse a special-purpose IPv4 block: %s", (url) => refusedEitherWay(url, SPECIAL));

  it.each([
    "https://198.17.255.255/hook",
    "https://198.20.0.1/hook",
    "https://192.0.3.1/hook",
    "https://223.255.255.254/hook",
    "https://[2606:4700::1111]/hook",
    "https://[2a00:1450:4001::1]/hook",
    "https://[2001:4860:4860::8888]/hook",
  ])("accept a public address next to those blocks: %s", (url) => {
    expect(endpointUrlProblem(url, strict)).toBeNull();
    expect(endpointUrlProblem(url, dev)).toBeNull();
  });

  it.each([
    ["https://hooks.example.com:443/x", strict, null], // the default, which the parser drops
    ["https://hooks.example.com:8443/x", strict, PORT],
    ["https://hooks.example.com:80/x", strict, PORT],
    ["https://hooks.example.com:8443/x", dev, PORT],
    ["https://hooks.example.com:8443/x", { allowHttp: false, allowedPorts: [8443] }, null],
    ["https://hooks.example.com:8443/x", { allowHttp: true, allowedPorts: [8443, 9443] }, null],
    ["https://hooks.example.com:9443/x", { allowHttp: false, allowedPorts: [8443] }, PORT],
    // Loopback under WEBHOOKS_ALLOW_HTTP keeps any port, for local receivers; a listed port opens no address.
    ["http://127.0.0.1:8787/hook", dev, null],
    ["https://127.0.0.1:8443/hook", dev, null],
    ["http://localhost:3000/hook", dev, null],
    ["https://[::1]:9000/hook", dev, null],
    ["https://127.0.0.1:8443/hook", { allowHttp: false, allowedPorts: [8443] }, INTERNAL],
    ["https://198.18.0.1:8443/hook", { allowHttp: false, allowedPorts: [8443] }, SPECIAL],
  ])("ports: %s with %j → %j", (url, policy, problem) => {
    expect(endpointUrlProblem(url, policy)).toBe(problem);
  });

  it.each([
    [undefined, []],
    ["", []],
    ["8443", [8443]],
    [" 8443 , 9443,", [8443, 9443]],
    // What is not a port is ignored rather than failing every delivery: the URLs that needed it are refused.
    ["8443,https,0,65536,99999999999999999999,1e3", [8443]],
    ["65535", [65535]],
  ])("WEBHOOK_ALLOWED_PORTS %j → %j", (text, ports) => {
    expect(allowedPorts(text)).toEqual(ports);
  });
});
