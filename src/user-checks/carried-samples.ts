/**
 * The samples of a user's check metrics. A metric's `samples` function cannot leave the worker thread,
 * so the worker computes each run's samples right after the run and they travel back with its result;
 * the exporter's side of the metric (what the /metrics gauge calls at each scrape) returns them.
 */
import { BoundedMap } from '../bounded-map.js';
import type { CheckMetric, MetricSample } from '../policy/types.js';
import type { MetricDescriptor, SampleSets } from './protocol.js';

/**
 * An image-scoped check runs once per image and its result is shared by every container of that image:
 * its samples are computed with these in place of the container's name and image reference, and each
 * container's series get its own put back.
 */
export const NAME_PLACEHOLDER = '\u0000docker-monitor:container-name\u0000';
export const IMAGE_PLACEHOLDER = '\u0000docker-monitor:container-image\u0000';

interface Carried {
  sets: SampleSets;
  placeholders: boolean;
}

/** By the result's data: each run's data is a fresh copy out of the worker, so it names one run. */
const byData = new WeakMap<object, Carried>();
/** Data that is a number or a string has no identity: by value, image and container instead. */
const byValue = new BoundedMap<string, Carried>(10_000);

function valueKey(data: unknown, imageId: string, name: string): string {
  return `${typeof data}:${String(data)}\u0000${imageId}\u0000${name}`;
}

/** Keeps the samples a run of `container` carried back with its `data`. */
export function keepSamples(data: unknown, sets: SampleSets, container: { name: string; imageId: string }, placeholders: boolean): void {
  const carried = { sets, placeholders };
  if (typeof data === 'object' && data !== null) byData.set(data, carried);
  else byValue.set(valueKey(data, container.imageId, placeholders ? '' : container.name), carried);
}

function carriedFor(data: unknown, container: { name: string; imageId: string }): Carried | undefined {
  if (typeof data === 'object' && data !== null) return byData.get(data);
  return byValue.get(valueKey(data, container.imageId, container.name)) ?? byValue.get(valueKey(data, container.imageId, ''));
}

/** The exporter's side of a user's check metric: the samples its worker computed for that result. */
export function carriedMetric({ name, help, labelNames }: MetricDescriptor): CheckMetric {
  return {
    name,
    help,
    labelNames,
    samples(data, container): readonly MetricSample[] {
      const carried = carriedFor(data, container);
      const samples = carried?.sets[name] ?? [];
      if (carried?.placeholders !== true) return samples;
      const own = (value: string): string =>
        value.replaceAll(NAME_PLACEHOLDER, container.name).replaceAll(IMAGE_PLACEHOLDER, container.image);
      return samples.map(({ labels, value }) => ({
        labels: Object.fromEntries(Object.entries(labels).map(([label, text]) => [label, own(text)])),
        value,
      }));
    },
  };
}
