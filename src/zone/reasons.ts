/** Reasons shared by the zone parser and $GENERATE. */
/**
 * The reason given for a type mnemonic nobody here knows: RFC 3597 §5 lets any type be written
 * by number with generic RDATA, which every DNS server reads (BIND, Knot, NSD).
 */
export function unknownTypeReason(text: string): string {
  return `unknown RR type "${text}"; write a type this parser does not know in RFC 3597 form, TYPEnnn \\# LENGTH HEX (e.g. TYPE29 \\# 16 00...)`;
}
