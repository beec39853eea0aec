/** Validators for `check`'s machine formats: the published SARIF 2.1.0 schema, our JSON schema, JUnit XML parsed. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

const root = join(import.meta.dirname, '../..');
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** The SARIF schema is draft 2020-12, ours draft-07: each gets the Ajv class of its draft. */
function compile(path: string, draft2020 = false): ValidateFunction {
  const ajv = draft2020 ? new Ajv2020({ allErrors: true, strict: false }) : new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(JSON.parse(readFileSync(join(root, path), 'utf8')) as object);
}

const sarif = compile('test/schemas/sarif-2.1.0.json', true);
const checkOutput = compile('schemas/check-output.schema.json');

function errors(list: ErrorObject[] | null | undefined): string {
  return (list ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`).join('\n');
}

/** Throws with every schema error when `document` is not a valid SARIF 2.1.0 log. */
export function assertValidSarif(document: unknown): void {
  if (!sarif(document)) throw new Error(`not valid SARIF 2.1.0:\n${errors(sarif.errors)}`);
}

/** Throws when `document` does not follow schemas/check-output.schema.json. */
export function assertValidCheckJson(document: unknown): void {
  if (!checkOutput(document)) throw new Error(`not valid check output:\n${errors(checkOutput.errors)}`);
}

export interface JunitCase {
  name: string;
  classname: string;
  failure?: { message: string; type: string; text: string };
  error?: { message: string };
  skipped?: { message: string };
}
export interface JunitSuite {
  name: string;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  properties: Record<string, string>;
  cases: JunitCase[];
}

type Node = Record<string, unknown>;
const list = (value: unknown): Node[] => (value === undefined ? [] : Array.isArray(value) ? (value as Node[]) : [value as Node]);

/** Checks that `xml` is well-formed XML and reads its JUnit structure. */
export function parseJunit(xml: string): { totals: Omit<JunitSuite, 'name' | 'properties' | 'cases'>; suites: JunitSuite[] } {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not well-formed XML: ${valid.err.msg} at line ${valid.err.line}`);
  const parsed = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    textNodeName: 'text',
    parseAttributeValue: false,
  }).parse(xml) as {
    testsuites?: Node;
  };
  const root = parsed.testsuites;
  if (root === undefined) throw new Error('no <testsuites> root');
  const number = (node: Node, key: string): number => Number(node[key]);
  const counts = (node: Node) => ({
    tests: number(node, 'tests'),
    failures: number(node, 'failures'),
    errors: number(node, 'errors'),
    skipped: number(node, 'skipped'),
  });
  const suites = list(root['testsuite']).map((suite) => ({
    name: String(suite['name']),
    ...counts(suite),
    properties: Object.fromEntries(
      list((suite['properties'] as Node | undefined)?.['property']).map((property) => [
        String(property['name']),
        String(property['value']),
      ]),
    ),
    cases: list(suite['testcase']).map((entry) => {
      const failure = entry['failure'] as Node | undefined;
      const error = entry['error'] as Node | undefined;
      const skipped = entry['skipped'] as Node | undefined;
      return {
        name: String(entry['name']),
        classname: String(entry['classname']),
        ...(failure === undefined
          ? {}
          : {
              failure: {
                message: String(failure['message']),
                type: String(failure['type']),
                text: typeof failure['text'] === 'string' ? failure['text'] : '',
              },
            }),
        ...(error === undefined ? {} : { error: { message: String(error['message']) } }),
        ...(skipped === undefined ? {} : { skipped: { message: String(skipped['message']) } }),
      };
    }),
  }));
  return { totals: counts(root), suites };
}
