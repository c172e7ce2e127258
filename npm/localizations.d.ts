import type { Localization } from "./ui.js";
export declare const enUS: Localization;
export declare const frFR: Localization;
