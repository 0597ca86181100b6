import { describe, expect, it } from "vitest";
import { endpointUrlProblem } from "../../src/webhooks/endpoint-url";
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
    ["https://127.0.0.1/hook", false, "must not name a loopback, private or link-local address"],
    ["https://127.0.0.1/hook", true, null],
    ["https://10.1.2.3/hook", true, "must not name a loopback, private or link-local address"],
    ["https://172.16.0.1/hook", false, "must not name a loopback, private or link-local address"],
    ["https://172.32.0.1/hook", false, null],
    ["https://192.168.1.10/hook", false, "must not name a loopback, private or link-local address"],
    ["https://169.254.169.254/latest/meta-data", false, "must not name a loopback, private or link-local address"],
    ["https://100.64.0.1/hook", false, "must not name a loopback, private or link-local address"],
    ["https://0.0.0.0/hook", false, "must not name a loopback, private or link-local address"],
    ["https://2130706433/hook", false, "must not name a loopback, private or link-local address"],
    ["https://localhost/hook", false, "must not name a loopback, private or link-local address"],
    ["https://api.localhost/hook", false, "must not name a loopback, private or link-local address"],
    ["https://[::1]/hook", false, "must not name a loopback, private or link-local address"],
    ["https://[fd00::1]/hook", false, "must not name a loopback, private or link-local address"],
    ["https://[fe80::1]/hook", false, "must not name a loopback, private or link-local address"],
    ["https://[::ffff:10.0.0.1]/hook", false, "must not name a loopback, private or link-local address"],
    ["https://[2606:4700::1]/hook", false, null],
    ["https://8.8.8.8/hook", false, null],
  ])("%s (http allowed: %s) → %j", (url, allowHttp, problem) => {
    expect(endpointUrlProblem(url, allowHttp)).toBe(problem);
  });
});
