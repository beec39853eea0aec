/** `check --format` values; apart from the command so that the command line knows them without loading it. */
export const CHECK_FORMATS = ['text', 'json', 'sarif', 'junit'] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];
