/**
 * The Grafana dashboards type-checked against Grafana's own published schema, `@grafana/schema`'s
 * `Dashboard`: each JSON file becomes `const dashboard: Dashboard = <json>` and the TypeScript
 * compiler reports any property the schema does not know (excess property checks on the literal), a
 * missing required one, or a value of the wrong type.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const ROOT = new URL('../..', import.meta.url).pathname;
const DASHBOARDS = join(ROOT, 'grafana/dashboards');

/**
 * The schema's string enums (`ThresholdsMode`, `FieldColorModeId`, …) accept only their members in
 * TypeScript; JSON holds their values. `AsJson` turns each into the union of its values, and leaves
 * every other type as it is.
 */
const PRELUDE = `import type { Dashboard } from '@grafana/schema';
type AsJson<T> = 0 extends 1 & T ? T
  : T extends string ? \`\${T}\`
  : T extends readonly (infer U)[] ? AsJson<U>[]
  : T extends object ? { [K in keyof T]: AsJson<T[K]> }
  : T;
export const dashboard: AsJson<Dashboard> = `;
const PRELUDE_LINES = PRELUDE.split('\n').length - 1;

const OPTIONS: ts.CompilerOptions = {
  strict: true,
  exactOptionalPropertyTypes: false,
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  types: [],
};

/** Type errors of each named dashboard JSON text, as `file:line: message` (lines of the JSON file). */
function typeErrors(dashboards: ReadonlyMap<string, string>): string[] {
  // Virtual sources beside package.json, so that '@grafana/schema' resolves from node_modules.
  const sources = new Map([...dashboards].map(([name, json]) => [join(ROOT, `.dashboard-schema-${name}.ts`), `${PRELUDE}${json};\n`]));
  const host = ts.createCompilerHost(OPTIONS);
  const [getSourceFile, fileExists, readFile] = [host.getSourceFile.bind(host), host.fileExists.bind(host), host.readFile.bind(host)];
  host.getSourceFile = (path, language, ...rest) => {
    const text = sources.get(path);
    return text === undefined ? getSourceFile(path, language, ...rest) : ts.createSourceFile(path, text, language);
  };
  host.fileExists = (path) => sources.has(path) || fileExists(path);
  host.readFile = (path) => sources.get(path) ?? readFile(path);
  const program = ts.createProgram([...sources.keys()], OPTIONS, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    if (diagnostic.file === undefined || diagnostic.start === undefined) return message;
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const name = diagnostic.file.fileName.replace(join(ROOT, '.dashboard-schema-'), '').replace(/\.ts$/, '');
    return `grafana/dashboards/${name}:${line - PRELUDE_LINES + 1}: ${message}`;
  });
}

function dashboardFiles(): Map<string, string> {
  const files = readdirSync(DASHBOARDS).filter((file) => file.endsWith('.json'));
  return new Map(files.map((file) => [file, readFileSync(join(DASHBOARDS, file), 'utf8')]));
}

test("every dashboard type-checks against @grafana/schema's Dashboard", () => {
  const files = dashboardFiles();
  assert.ok(files.size >= 2, `dashboards in ${DASHBOARDS}`);
  assert.deepEqual(typeErrors(files), []);
});

interface Editable {
  panels: Record<string, unknown>[];
  [key: string]: unknown;
}

/** The first dashboard changed by `breakIt`, as JSON text. */
function broken(breakIt: (dashboard: Editable) => void): string {
  const dashboard = JSON.parse([...dashboardFiles().values()][0] ?? '{}') as Editable;
  breakIt(dashboard);
  return JSON.stringify(dashboard, null, 2);
}

test('the type check fails on a broken dashboard: an unknown property, a wrong type, a value outside an enum', () => {
  const errors = typeErrors(
    new Map([
      ['unknown-property', broken((dashboard) => (dashboard['timezon'] = 'utc'))],
      ['wrong-type', broken((dashboard) => ((dashboard.panels[0] ?? {})['title'] = 30))],
      [
        'outside-enum',
        broken((dashboard) => {
          const panel = dashboard.panels.find((candidate) => candidate['fieldConfig'] !== undefined);
          const { thresholds } = (panel?.['fieldConfig'] as { defaults: { thresholds: { mode: string } } }).defaults;
          thresholds.mode = 'relative';
        }),
      ],
    ]),
  );
  const of = (name: string) => errors.filter((error) => error.startsWith(`grafana/dashboards/${name}:`)).join('\n');
  assert.match(of('unknown-property'), /'"timezon"' does not exist in type/);
  assert.match(of('wrong-type'), /:\d+: Type 'number' is not assignable to type 'string'/);
  assert.match(of('outside-enum'), /Type '"relative"' is not assignable to type '"absolute" \| "percentage"'/);
});
