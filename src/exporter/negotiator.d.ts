// negotiator 1.x (its own package has no types, and @types/negotiator describes 0.6, without `preferred`).
declare module 'negotiator' {
  export default class Negotiator {
    constructor(request: { headers: Record<string, string | string[] | undefined> });
    /** The client's most preferred of `available`; ties go to the earlier entry of `options.preferred`. */
    encoding(available: readonly string[], options?: { preferred?: readonly string[] }): string | undefined;
    /** The client's most preferred of `available` (a type with parameters matches only the same parameters). */
    mediaType(available: readonly string[]): string | undefined;
  }
}
