/**
 * Content negotiation for /metrics and the pages, by negotiator (q-values, wildcards and parameters
 * as RFC 9110 has them): `gzip;q=0` refuses gzip, `application/openmetrics-text;q=0` refuses OpenMetrics.
 */
import Negotiator from 'negotiator';

type Headers = Record<string, string | string[] | undefined>;

/** gzip when the client accepts it at least as much as identity; identity without Accept-Encoding. */
export function wantsGzip(headers: Headers): boolean {
  return new Negotiator({ headers }).encoding(['gzip', 'identity'], { preferred: ['gzip', 'identity'] }) === 'gzip';
}

/**
 * Every name docker-monitor exports is a legacy one (`[a-zA-Z_:][a-zA-Z0-9_:]*`), written the same
 * under each of Prometheus 3's escaping schemes, so an Accept entry with any `escaping` is served.
 */
const ESCAPINGS = ['', '; escaping=allow-utf-8', '; escaping=underscores', '; escaping=dots', '; escaping=values'];
/**
 * What /metrics writes, first the default: the text format 0.0.4 (also served for 1.0.0, which
 * differs only in how it quotes names that are not legacy ones), then OpenMetrics 1.0.0 (also
 * served for 0.0.1).
 */
const TEXT = ['text/plain', 'text/plain; version=0.0.4', 'text/plain; version=1.0.0'];
const OPENMETRICS = [
  'application/openmetrics-text',
  'application/openmetrics-text; version=1.0.0',
  'application/openmetrics-text; version=0.0.1',
];
const OFFERED = [...TEXT, ...OPENMETRICS].flatMap((type) => ESCAPINGS.map((escaping) => `${type}${escaping}`));

/** OpenMetrics when the client prefers it to the text format; the text format for no or an unsatisfiable Accept. */
export function wantsOpenMetrics(headers: Headers): boolean {
  return new Negotiator({ headers }).mediaType(OFFERED)?.startsWith('application/openmetrics-text') ?? false;
}
