// The lab: every claim of the primer as an experiment (see experiment.ts for the shape). `nabla lab list`,
// `nabla lab run ID` in the terminal; the same modules run in a page's Web Worker.

import { resolveParams, type Emit, type Experiment, type LabData, type LabResult } from "./experiment.js";
import { quadraticExperiment } from "./experiments/quadratic.js";
import { adaptiveExperiment } from "./experiments/adaptive.js";
import { batchSizeExperiment } from "./experiments/batchsize.js";
import { pathsExperiment } from "./experiments/paths.js";
import { newtonExperiment } from "./experiments/newton.js";
import { lossesExperiment } from "./experiments/losses.js";
import { schedulesExperiment } from "./experiments/schedules.js";
import { zooExperiment } from "./experiments/zoo.js";
import { batchNormExperiment } from "./experiments/batchnorm.js";
import { depthExperiment } from "./experiments/depth.js";

export * from "./experiment.js";
export { resultSvg } from "./svg.js";

/** Every experiment, in the primer's order. */
export const experiments: readonly Experiment[] = [
  batchSizeExperiment,
  quadraticExperiment,
  adaptiveExperiment,
  pathsExperiment,
  newtonExperiment,
  schedulesExperiment,
  batchNormExperiment,
  lossesExperiment,
  depthExperiment,
  zooExperiment,
];

export function getExperiment(id: string): Experiment {
  const e = experiments.find((x) => x.id === id);
  if (!e) throw new RangeError(`lab: unknown experiment '${id}' (experiments: ${experiments.map((x) => x.id).join(", ")})`);
  return e;
}

/** Run experiment `id` with `params` over its defaults; `emit` receives each metric as it is measured. */
export function runExperiment(
  id: string,
  params: Record<string, unknown> = {},
  seed = 0,
  emit: Emit = () => {},
  data?: LabData,
): LabResult {
  const e = getExperiment(id);
  return e.run(resolveParams(e, params), seed, emit, data);
}
