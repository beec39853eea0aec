/**
 * The one way text from outside (container names, labels, reasons, values in error messages) is made
 * safe to show on a line or a page: control characters (newlines, ESC, C1, line separators) become
 * visible `\uXXXX` escapes, so they can neither break a line nor drive a terminal.
 */

// eslint-disable-next-line no-control-regex -- control characters are what is matched
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const CONTROL_GLOBAL = new RegExp(CONTROL.source, 'g');

/** Control characters as visible `\uXXXX` escapes. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL_GLOBAL, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Whether `text` holds a control character (one escapeControl would escape). */
export function hasControl(text: string): boolean {
  return CONTROL.test(text);
}
