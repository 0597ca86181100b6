import { badRequest } from "../errors";
import { type AttrPath, splitAttrPath } from "../schema/resolve";
import type { CompareOp, Filter, FilterValue } from "./ast";

/** Long enough for any real client filter; bounds parser work and the SQL built from it. */
export const MAX_FILTER_LENGTH = 2048;
/** Nesting of parentheses, `not` and value paths. */
export const MAX_FILTER_DEPTH = 8;
/** Comparisons per filter: each binds at most three SQL parameters, and D1 allows 100 per statement. */
export const MAX_FILTER_TERMS = 24;

const COMPARE_OPS = new Set<string>(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]);

type Token =
  | { type: "punct"; text: "(" | ")" | "[" | "]" }
  | { type: "word"; text: string }
  | { type: "string"; text: string };

const invalid = (detail: string) => badRequest("invalidFilter", detail);

/**
 * Hand-written recursive descent over the whole RFC grammar. The available library (scim2-parse-filter) rejects
 * the unquoted values that Microsoft's suite and old Entra documentation send, and flattens value paths into
 * independent conditions, which changes their meaning.
 */
export function parseFilter(text: string): Filter {
  if (text.length > MAX_FILTER_LENGTH) throw invalid(`Filter is longer than ${MAX_FILTER_LENGTH} characters.`);
  const parser = new Parser(tokenize(text));
  const filter = parser.filter(0);
  parser.end();
  return filter;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "(" || ch === ")" || ch === "[" || ch === "]") {
      tokens.push({ type: "punct", text: ch });
      i++;
    } else if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (j >= text.length) throw invalid("Unterminated string in filter.");
      try {
        tokens.push({ type: "string", text: JSON.parse(text.slice(i, j + 1)) as string });
      } catch {
        throw invalid("Invalid escape in filter string.");
      }
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s()[\]"]/.test(text[j] as string)) j++;
      tokens.push({ type: "word", text: text.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

class Parser {
  private pos = 0;
  private terms = 0;

  constructor(private readonly tokens: Token[]) {}

  filter(depth: number): Filter {
    let left = this.conjunction(depth);
    while (this.keyword("or")) left = { kind: "or", left, right: this.conjunction(depth) };
    return left;
  }

  end() {
    const extra = this.tokens[this.pos];
    if (extra) throw invalid(`Unexpected "${extra.text}" in filter.`);
  }

  private conjunction(depth: number): Filter {
    let left = this.unary(depth);
    while (this.keyword("and")) left = { kind: "and", left, right: this.unary(depth) };
    return left;
  }

  private unary(depth: number): Filter {
    if (depth > MAX_FILTER_DEPTH) throw invalid(`Filter is nested deeper than ${MAX_FILTER_DEPTH} levels.`);
    if (this.keyword("not")) return { kind: "not", filter: this.unary(depth + 1) };
    if (this.punct("(")) {
      const inner = this.filter(depth + 1);
      this.expect(")");
      return inner;
    }
    const path = this.attrPath();
    if (this.punct("[")) {
      const inner = this.filter(depth + 1);
      this.expect("]");
      const next = this.tokens[this.pos];
      if (next?.type === "word" && next.text.startsWith(".")) {
        this.pos++;
        const sub = this.comparison({ attr: next.text.slice(1) });
        return { kind: "valuePath", path, filter: { kind: "and", left: inner, right: sub } };
      }
      return { kind: "valuePath", path, filter: inner };
    }
    return this.comparison(path);
  }

  private comparison(path: AttrPath): Filter {
    const token = this.tokens[this.pos++];
    const op = token?.type === "word" ? token.text.toLowerCase() : undefined;
    if (++this.terms > MAX_FILTER_TERMS) throw invalid(`Filter has more than ${MAX_FILTER_TERMS} comparisons.`);
    if (op === "pr") return { kind: "present", path };
    if (op === undefined || !COMPARE_OPS.has(op)) {
      throw invalid(token ? `Unknown operator "${token.text}".` : "Filter ends where an operator was expected.");
    }
    return { kind: "compare", path, op: op as CompareOp, value: this.value() };
  }

  /** Quoted JSON strings, true/false/null, numbers, and (tolerated) bare words as strings. */
  private value(): FilterValue {
    const token = this.tokens[this.pos++];
    if (!token || token.type === "punct") throw invalid("Filter ends where a comparison value was expected.");
    if (token.type === "string") return token.text;
    const lower = token.text.toLowerCase();
    if (lower === "true" || lower === "false") return lower === "true";
    if (lower === "null") return null;
    if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(token.text)) return Number(token.text);
    return token.text;
  }

  private attrPath(): AttrPath {
    const token = this.tokens[this.pos++];
    if (token?.type !== "word" || !/^(urn:[\w.:-]+:)?[A-Za-z$][\w$-]*(\.[A-Za-z$][\w$-]*)?$/i.test(token.text)) {
      throw invalid(
        token ? `"${token.text}" is not an attribute path.` : "Filter ends where an attribute was expected.",
      );
    }
    return splitAttrPath(token.text);
  }

  private keyword(word: string) {
    const token = this.tokens[this.pos];
    if (token?.type === "word" && token.text.toLowerCase() === word) {
      this.pos++;
      return true;
    }
    return false;
  }

  private punct(text: string) {
    const token = this.tokens[this.pos];
    if (token?.type === "punct" && token.text === text) {
      this.pos++;
      return true;
    }
    return false;
  }

  private expect(text: string) {
    if (!this.punct(text)) throw invalid(`Expected "${text}" in filter.`);
  }
}
