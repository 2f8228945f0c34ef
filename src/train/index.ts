// nb.train: the training loop, evaluation and checkpoints.
export { fit, evaluate, type FitOptions, type FitResult, type EpochRecord, type BatchInfo } from "./fit.js";
export { saveCheckpoint, serializeCheckpoint, loadCheckpoint, CheckpointError, type CheckpointContents } from "./checkpoint.js";
