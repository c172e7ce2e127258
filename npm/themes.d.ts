import type { BaseTheme } from "./ui.js";
/** The dark base theme: `appearance={{ baseTheme: dark }}`. */
export declare const dark: BaseTheme;
