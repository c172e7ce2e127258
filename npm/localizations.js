// `hallpass/localizations`: the drop-in UI's string tables, as Clerk's `@clerk/localizations`:
// `<HallpassProvider localization={frFR}>` or `configure({ localization: frFR })`. English is the
// default inside hallpass/ui; it is here too, for apps that build on it.

export { enUS } from "./ui/en-US.js";
export { frFR } from "./ui/fr-FR.js";
