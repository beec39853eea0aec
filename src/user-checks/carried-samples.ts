/**
 * The samples of a user's check metrics. A metric's `samples` function cannot leave the worker thread,
 * so the worker computes each run's samples right after the run and they travel back as its result's data;
 * the exporter's side of the metric (what the /metrics gauge calls at each scrape) returns them.
 */
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

/**
 * A user's check result's data on the exporter's side: the samples its worker computed from the run's own
 * data. They travel inside the result, so two results that hold equal values never share samples.
 */
export class CarriedSamples {
  constructor(readonly sets: SampleSets) {}
}

/** The exporter's side of a user's check metric: the samples its worker computed for that result. */
export function carriedMetric({ name, help, labelNames }: MetricDescriptor): CheckMetric {
  return {
    name,
    help,
    labelNames,
    samples(data, container): readonly MetricSample[] {
      const sets = data instanceof CarriedSamples ? data.sets : undefined;
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
