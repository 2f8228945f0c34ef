// nb.io: safetensors weights and checkpoints.
export {
  loadSafetensors,
  loadSafetensorsFile,
  parseSafetensors,
  saveSafetensors,
  serializeSafetensors,
  writeFileAtomic,
  type SafetensorsFile,
} from "./safetensors.js";
export { loadTorch, parseTorch, TorchLoadError, type TorchDict, type TorchValue } from "./torch.js";
