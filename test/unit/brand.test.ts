import { describe, expect, it } from "vitest";
import { brandColors, DEFAULT_ACCENT, parseBrand, parseLogo } from "../../src/http/pages/brand";

/** WCAG 2's contrast ratio, written out here so the test does not take the library's word for it. */
function contrast(a: string, b: string) {
  const luminance = (hex: string) => {
    const linear = (i: number) => {
      const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * linear(1) + 0.7152 * linear(3) + 0.0722 * linear(5);
  };
  const [la, lb] = [luminance(a), luminance(b)];
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

const PAPER = "#ffffff";
const WASH = "#f4f6f9";

describe("brand colours", () => {
  // The extremes, the default, white, black, and a sweep of hues and lightnesses.
  const sweep = Array.from({ length: 64 }, (_, i) => {
    const channel = (shift: number) => (((i * 37 + shift) % 256) | 0).toString(16).padStart(2, "0");
    return `#${channel(0)}${channel(91)}${channel(173)}`;
  });
  const accents = ["#ffff00", "#777777", DEFAULT_ACCENT, "#ffffff", "#000000", "#00ff00", "#ff0000", ...sweep];

  it.each(accents)("%s: button text and text in the accent read at 4.5:1 (WCAG AA)", (accent) => {
    const colors = brandColors(accent);
    expect(colors.accent).toBe(accent);
    expect(contrast(colors.onAccent, colors.accent)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(colors.text, PAPER)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(colors.text, WASH)).toBeGreaterThanOrEqual(4.5);
  });

  it("keeps a dark accent as it is, and darkens a light one no further than needed", () => {
    expect(brandColors("#1b3a8a").text).toBe("#1b3a8a");
    const yellow = brandColors("#ffff00");
    expect(yellow.onAccent).toBe("#000000");
    expect(contrast(yellow.text, WASH)).toBeLessThan(5.2);
    // #777777 reads at 4.48:1 with white: black is the button's text.
    expect(brandColors("#777777").onAccent).toBe("#000000");
    expect(brandColors("#2456c9").onAccent).toBe("#ffffff");
  });
});

describe("brand settings", () => {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>';

  it("read a logo from a data URI, base64 or percent-encoded, of an image type only", () => {
    const base64 = parseLogo(`data:image/svg+xml;base64,${btoa(svg)}`);
    expect(base64?.type).toBe("image/svg+xml");
    expect(new TextDecoder().decode(base64?.bytes)).toBe(svg);
    expect(new TextDecoder().decode(parseLogo(`data:image/svg+xml,${encodeURIComponent(svg)}`)?.bytes)).toBe(svg);
    expect(parseLogo("data:text/html;base64,PHNjcmlwdD4=")).toBeNull();
    expect(parseLogo("https://cdn.example/logo.png")).toBeNull();
    expect(parseLogo("data:image/png;base64,!!!")).toBeNull();
    expect(parseLogo("data:image/png;base64,")).toBeNull();
  });

  it("fall back to the defaults, one setting at a time, when a value is not valid", () => {
    const brand = parseBrand({
      BRAND_NAME: "  Acme HR ",
      BRAND_LOGO: "logo.png",
      BRAND_COLOR: "red",
      BRAND_SUPPORT_URL: "javascript:alert(1)",
    });
    expect(brand).toMatchObject({ name: "Acme HR", product: "Acme HR", logo: null, supportUrl: null });
    expect(brand.colors.accent).toBe(DEFAULT_ACCENT);
    expect(parseBrand({ BRAND_NAME: "", BRAND_LOGO: "", BRAND_COLOR: "", BRAND_SUPPORT_URL: "" })).toMatchObject({
      name: "Directory sync",
      product: "the product",
    });
    expect(parseBrand({ BRAND_SUPPORT_URL: "mailto:help@acme.example" } as never).supportUrl).toBe(
      "mailto:help@acme.example",
    );
    expect(parseBrand({ BRAND_SUPPORT_URL: "http://acme.example/help" } as never).supportUrl).toBeNull();
    expect(parseBrand({ BRAND_COLOR: "#AbC" } as never).colors.accent).toBe("#aabbcc");
  });
});
