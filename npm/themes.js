// `hallpass/themes`: base themes for the drop-in UI (`appearance={{ baseTheme: dark }}`), as Clerk's
// `@clerk/themes`. A theme is variables (and may carry elements and layout); the colours meet WCAG AA
// contrast on the theme's own backgrounds (tests/e2e/ui.test.mjs runs axe-core on every component in it).

export const dark = Object.freeze({
  __type: "prebuilt_appearance",
  variables: Object.freeze({
    colorPrimary: "#a5b4fc",
    colorTextOnPrimaryBackground: "#111827",
    colorDanger: "#fca5a5",
    colorSuccess: "#86efac",
    colorText: "#f4f4f5",
    colorTextSecondary: "#b4b4bc",
    colorBackground: "#1f1f23",
    colorInputText: "#f4f4f5",
    colorInputBackground: "#2a2a30",
    colorNeutral: "#f4f4f5",
  }),
});
