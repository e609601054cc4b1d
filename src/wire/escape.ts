/**
 * The `\DDD` escape of presentation text (RFC 1035 §5.1), shared by names and character strings.
 */

/**
 * The value of the three decimal digits starting at `i` of `text` (0 to 999: callers reject
 * values above 255 with their own error), or -1 when three digits do not follow.
 */
export function decimalEscape(text: string, i: number): number {
  const d1 = text.charCodeAt(i) - 0x30;
  const d2 = text.charCodeAt(i + 1) - 0x30;
  const d3 = text.charCodeAt(i + 2) - 0x30;
  // NaN (past the end) fails these comparisons too.
  if (!(d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9 && d3 >= 0 && d3 <= 9)) return -1;
  return d1 * 100 + d2 * 10 + d3;
}
