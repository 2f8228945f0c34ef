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
