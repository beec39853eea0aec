/**
 * The samples of a user's check metrics. A metric's `samples` function cannot leave the worker thread,
 * so the worker computes each run's samples right after the run and they travel back with its result;
 * the exporter's side of the metric (what the /metrics gauge calls at each scrape) returns them.
 */
import { BoundedMap } from '../bounded-map.js';
import type { CheckMetric, MetricSample } from '../policy/types.js';
import type { MetricDescriptor, SampleSets } from './protocol.js';

/**
 * In the worker, `samples` gets these for the container's name, image and image ID; at each scrape the
 * container a result belongs to puts its own in the label values. So one result shared by every
 * container of an image (an image-scoped check) gives each container its own series.
 */
export const CONTAINER_PLACEHOLDERS = {
  name: '\u0000container-name\u0000',
  image: '\u0000container-image\u0000',
  imageId: '\u0000container-image-id\u0000',
} as const;

/** By the result's data: each run's data is a fresh copy out of the worker, so it names one run. */
const byData = new WeakMap<object, SampleSets>();
/** Data that is a number or a string has no identity, and needs none: its samples depend on it alone. */
const byValue = new BoundedMap<string, SampleSets>(10_000);

const valueKey = (data: unknown): string => `${typeof data}:${String(data)}`;

/** Keeps the samples a run carried back with its `data`. */
export function keepSamples(data: unknown, sets: SampleSets): void {
  if (typeof data === 'object' && data !== null) byData.set(data, sets);
  else byValue.set(valueKey(data), sets);
}

/** The exporter's side of a user's check metric: the samples its worker computed for that result. */
export function carriedMetric({ name, help, labelNames }: MetricDescriptor): CheckMetric {
  return {
    name,
    help,
    labelNames,
    samples(data, container): readonly MetricSample[] {
      const sets = typeof data === 'object' && data !== null ? byData.get(data) : byValue.get(valueKey(data));
      const own = (text: string): string =>
        text
          .replaceAll(CONTAINER_PLACEHOLDERS.name, container.name)
          .replaceAll(CONTAINER_PLACEHOLDERS.image, container.image)
          .replaceAll(CONTAINER_PLACEHOLDERS.imageId, container.imageId);
      return (sets?.[name] ?? []).map(({ labels, value }) => ({
        labels: Object.fromEntries(Object.entries(labels).map(([label, text]) => [label, own(text)])),
        value,
      }));
    },
  };
}
