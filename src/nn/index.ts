// nb.nn: layers and their functional forms.
export * as functional from "./functional.js";
