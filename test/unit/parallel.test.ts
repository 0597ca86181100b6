import { expect, it } from "vitest";
import { eachAtMost } from "../../src/lib/parallel";

it("runs at most `limit` tasks at once, every item once", async () => {
  let inFlight = 0;
  let most = 0;
  const done: number[] = [];
  await eachAtMost([...Array(20).keys()], 6, async (n) => {
    most = Math.max(most, ++inFlight);
    await new Promise((resolve) => setTimeout(resolve, n % 3));
    inFlight--;
    done.push(n);
  });
  expect(most).toBe(6);
  expect(done.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
});

it("tries every item despite failures, then throws the first, with nothing left running", async () => {
  const tried: number[] = [];
  const run = eachAtMost([1, 2, 3, 4, 5], 2, async (n) => {
    tried.push(n);
    if (n % 2 === 0) throw new Error(`failed ${n}`);
  });
  await expect(run).rejects.toThrow("failed 2");
  expect(tried.sort()).toEqual([1, 2, 3, 4, 5]);
});
