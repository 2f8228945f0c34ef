// Losses: functional forms and Module forms.
export * from "./functional.js";
export * from "./modules.js";
