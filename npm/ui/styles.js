// The components' default look: one stylesheet, added to the document once, first in `<head>`. Every
// selector weighs exactly one class — an `hp-<part>` class, anything else inside `:where()` — so the
// defaults beat element selectors (resets, Tailwind's preflight: `button { background: transparent }`)
// and tie with an app's own utility classes, which come later in the page and so win: that is how
// `appearance.elements` classes style a part (see appearance.js for why light DOM). Apps whose
// utilities live in cascade layers (Tailwind v4) name a layer for these rules with
// `appearance.cssLayerName` and order it before theirs, as with Clerk. Values come from the variables
// (`--hp-*`, set on each component's root from `appearance.variables` over the theme). Empty error
// texts and alerts take no room but stay rendered: a live region hidden with `display: none` is not
// in the accessibility tree, and what appears in it would not be read out.

const CSS = `
.hp-rootBox{display:block;color:var(--hp-color-text);font-family:var(--hp-font-family);font-size:var(--hp-font-size);line-height:1.5;--hp-border:color-mix(in srgb,var(--hp-color-neutral) 18%,transparent);--hp-input-border:color-mix(in srgb,var(--hp-color-neutral) 48%,var(--hp-color-input-background))}
.hp-rootBox:where(hallpass-user-button,hallpass-organization-switcher){display:inline-block}
:where(.hp-rootBox) :where(*,*::before,*::after){box-sizing:border-box}
.hp-rootBox :focus-visible{outline:2px solid var(--hp-color-primary);outline-offset:2px}
.hp-animated :where(button,a,input){transition:background-color .15s,border-color .15s,box-shadow .15s}
.hp-card{width:min(100%,25rem);margin:0;padding:calc(var(--hp-spacing-unit)*2) calc(var(--hp-spacing-unit)*2.25);background:var(--hp-color-background);color:var(--hp-color-text);border:1px solid var(--hp-border);border-radius:calc(var(--hp-border-radius)*1.5);box-shadow:0 1px 3px rgb(0 0 0/.08),0 8px 24px rgb(0 0 0/.08)}
@media (max-width:30rem){.hp-card{padding:calc(var(--hp-spacing-unit)*1.5) var(--hp-spacing-unit)}}
.hp-header{text-align:center;margin-bottom:calc(var(--hp-spacing-unit)*1.5)}
.hp-logoBox{display:flex;justify-content:center;margin-bottom:var(--hp-spacing-unit)}
.hp-logoImage{height:2rem;width:auto}
.hp-headerTitle{margin:0;font-size:1.0625rem;font-weight:700;line-height:1.4;color:inherit}
.hp-headerSubtitle{margin:.25rem 0 0;color:var(--hp-color-text-secondary);font-size:.8125rem}
.hp-form{display:flex;flex-direction:column;gap:var(--hp-spacing-unit);margin:0}
.hp-formFieldRow{display:flex;gap:.75rem;flex-wrap:wrap}
:where(.hp-formFieldRow)>.hp-formField{flex:1 1 8rem}
.hp-formField{display:flex;flex-direction:column;gap:.375rem;min-width:0}
.hp-formFieldLabelRow{display:flex;justify-content:space-between;align-items:baseline;gap:.5rem}
.hp-formFieldLabel{font-size:.8125rem;font-weight:var(--hp-font-weight)}
.hp-formFieldHintText{margin:0;font-size:.75rem;color:var(--hp-color-text-secondary)}
.hp-formFieldInputGroup{position:relative;display:flex}
.hp-formFieldInput{width:100%;min-height:2.25rem;margin:0;padding:.375rem .75rem;font:inherit;font-size:.875rem;color:var(--hp-color-input-text);background:var(--hp-color-input-background);border:1px solid var(--hp-input-border);border-radius:var(--hp-border-radius)}
:where(.hp-formFieldInputGroup)>.hp-formFieldInput{padding-right:2.75rem}
.hp-formFieldInput:where([aria-invalid=true]){border-color:var(--hp-color-danger)}
.hp-formFieldInputShowPasswordButton{position:absolute;right:.25rem;top:50%;transform:translateY(-50%);display:grid;place-items:center;width:2rem;height:1.75rem;padding:0;border:0;border-radius:calc(var(--hp-border-radius)*.75);background:transparent;color:var(--hp-color-text-secondary);cursor:pointer}
:where(.hp-formFieldInputShowPasswordButton) svg{width:1.125rem;height:1.125rem}
.hp-formFieldErrorText{margin:0;font-size:.8125rem;color:var(--hp-color-danger)}
.hp-formFieldErrorText:where(:empty){margin-top:-.375rem}
.hp-formButtonPrimary,.hp-formButtonReset{display:inline-flex;justify-content:center;align-items:center;gap:.5rem;min-height:2.25rem;margin:0;padding:.375rem 1rem;font:inherit;font-family:var(--hp-font-family-buttons);font-size:.875rem;font-weight:var(--hp-font-weight);border-radius:var(--hp-border-radius);cursor:pointer}
.hp-formButtonPrimary{width:100%;color:var(--hp-color-text-on-primary-background);background:var(--hp-color-primary);border:1px solid var(--hp-color-primary)}
.hp-formButtonPrimary:where(:hover){background:color-mix(in srgb,var(--hp-color-primary) 88%,var(--hp-color-neutral))}
.hp-formButtonPrimary:where([aria-busy=true]){cursor:progress;opacity:.85}
.hp-formButtonReset{color:var(--hp-color-text);background:transparent;border:1px solid var(--hp-border)}
.hp-formButtons{display:flex;flex-wrap:wrap;gap:.5rem}
.hp-formFieldAction{align-self:flex-end;margin:0;padding:0;font:inherit;font-size:.8125rem;font-weight:var(--hp-font-weight);color:var(--hp-color-primary);background:none;border:0;cursor:pointer;text-decoration:underline;text-underline-offset:2px}
.hp-alert{margin:0 0 var(--hp-spacing-unit);padding:.625rem .75rem;border:1px solid var(--hp-color-danger);border-radius:var(--hp-border-radius);color:var(--hp-color-danger);font-size:.8125rem}
.hp-alert:where(:empty){margin:0;padding:0;border:0}
.hp-footer{margin-top:calc(var(--hp-spacing-unit)*1.5);text-align:center;font-size:.8125rem}
.hp-footerAction{margin:0}
.hp-footerActionText{color:var(--hp-color-text-secondary)}
.hp-footerActionLink,.hp-footerPagesLink{padding:0;font:inherit;font-weight:var(--hp-font-weight);color:var(--hp-color-primary);background:none;border:0;cursor:pointer;text-decoration:underline;text-underline-offset:2px}
.hp-footerPages{display:flex;justify-content:center;gap:1rem;margin-top:.75rem}
.hp-footerPagesLink{color:var(--hp-color-text-secondary);font-weight:400}
.hp-userButtonBox,.hp-organizationSwitcherBox{position:relative;display:inline-block}
.hp-userButtonTrigger,.hp-organizationSwitcherTrigger{display:inline-flex;align-items:center;gap:.5rem;margin:0;padding:.25rem;font:inherit;color:var(--hp-color-text);background:transparent;border:0;border-radius:999px;cursor:pointer}
.hp-organizationSwitcherTrigger{padding:.375rem .625rem;border-radius:var(--hp-border-radius);background:var(--hp-color-background);border:1px solid var(--hp-border)}
.hp-avatarBox{position:relative;display:grid;place-items:center;flex:none;width:2rem;height:2rem;overflow:hidden;border-radius:999px;background:var(--hp-color-primary);color:var(--hp-color-text-on-primary-background);font-size:.8125rem;font-weight:600}
.hp-organizationPreviewAvatarBox{border-radius:calc(var(--hp-border-radius)*.75);width:1.75rem;height:1.75rem}
.hp-avatarImage{position:absolute;inset:0;width:100%;height:100%;object-fit:cover}
.hp-userButtonPopoverCard,.hp-organizationSwitcherPopoverCard{position:absolute;top:calc(100% + .5rem);z-index:1000;width:max-content;min-width:16rem;max-width:min(22rem,calc(100vw - 1rem));padding:.5rem 0;background:var(--hp-color-background);color:var(--hp-color-text);border:1px solid var(--hp-border);border-radius:calc(var(--hp-border-radius)*1.5);box-shadow:0 8px 24px rgb(0 0 0/.16)}
.hp-userButtonPopoverCard{right:0}
.hp-organizationSwitcherPopoverCard{left:0}
.hp-userButtonPopoverCard:where([hidden]),.hp-organizationSwitcherPopoverCard:where([hidden]){display:none}
.hp-userPreview,.hp-organizationPreview{display:flex;align-items:center;gap:.75rem;min-width:0;text-align:left}
:where(.hp-userButtonPopoverCard)>.hp-userPreview{padding:.5rem 1rem .75rem}
.hp-userPreviewTextContainer,.hp-organizationPreviewTextContainer{display:flex;flex-direction:column;min-width:0}
.hp-userPreviewMainIdentifier,.hp-organizationPreviewMainIdentifier{font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.hp-userPreviewSecondaryIdentifier,.hp-organizationPreviewSecondaryIdentifier{font-size:.8125rem;color:var(--hp-color-text-secondary);overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.hp-userButtonPopoverActions,.hp-organizationSwitcherPopoverActions{display:flex;flex-direction:column;margin:0;padding:.25rem 0 0;border-top:1px solid var(--hp-border);list-style:none}
.hp-organizationSwitcherPopoverActions:where(:first-child){border-top:0;padding-top:0}
.hp-userButtonPopoverActionButton,.hp-organizationSwitcherPopoverActionButton,.hp-organizationSwitcherPreviewButton{display:flex;align-items:center;gap:.75rem;width:100%;margin:0;padding:.5rem 1rem;font:inherit;font-size:.875rem;color:var(--hp-color-text);text-align:left;background:transparent;border:0;cursor:pointer;text-decoration:none}
.hp-userButtonPopoverActionButton:where(:hover),.hp-organizationSwitcherPopoverActionButton:where(:hover),.hp-organizationSwitcherPreviewButton:where(:hover){background:color-mix(in srgb,var(--hp-color-neutral) 7%,transparent)}
:where(.hp-organizationSwitcherPreviewButton[aria-current=true]) .hp-organizationPreviewMainIdentifier::after{content:" ✓";color:var(--hp-color-primary)}
:where(.hp-organizationSwitcherPopoverCard)>.hp-form{padding:.5rem 1rem}
.hp-card:where(hallpass-organization-profile *){width:min(100%,40rem)}
.hp-organizationProfileSection{margin-top:calc(var(--hp-spacing-unit)*1.5)}
.hp-organizationProfileSectionTitle{margin:0 0 .75rem;font-size:.9375rem;font-weight:700;color:inherit}
.hp-organizationProfileSectionText{margin:0;color:var(--hp-color-text-secondary);font-size:.875rem}
.hp-organizationProfileList{margin:.75rem 0 0;padding:0;list-style:none;border-top:1px solid var(--hp-border)}
.hp-organizationProfileMemberRow,.hp-organizationProfileInvitationRow{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;padding:.625rem 0;border-bottom:1px solid var(--hp-border)}
.hp-organizationProfileMemberIdentity{display:flex;flex-direction:column;flex:1 1 12rem;min-width:0}
.hp-organizationProfileMemberName{font-weight:600;overflow-wrap:anywhere}
.hp-organizationProfileMemberIdentifier{font-size:.8125rem;color:var(--hp-color-text-secondary);overflow-wrap:anywhere}
.hp-organizationProfileMemberRole{font-size:.875rem}
.hp-organizationProfileRoleSelect{min-height:2.25rem;margin:0;padding:.25rem .5rem;font:inherit;font-size:.875rem;color:var(--hp-color-input-text);background:var(--hp-color-input-background);border:1px solid var(--hp-input-border);border-radius:var(--hp-border-radius)}
.hp-organizationProfileActionButton,.hp-organizationProfileDangerButton{min-height:2.25rem;margin:0;padding:.375rem .75rem;font:inherit;font-size:.875rem;font-weight:var(--hp-font-weight);color:var(--hp-color-text);background:transparent;border:1px solid var(--hp-border);border-radius:var(--hp-border-radius);cursor:pointer}
.hp-organizationProfileDangerButton{color:var(--hp-color-danger);border-color:var(--hp-color-danger)}
:where(.hp-organizationProfileSection) .hp-formButtons{flex-wrap:wrap;margin-top:var(--hp-spacing-unit)}
.hp-card:where(hallpass-user-profile *){width:min(100%,40rem)}
.hp-profileSection{margin-top:calc(var(--hp-spacing-unit)*1.5);padding-top:var(--hp-spacing-unit);border-top:1px solid var(--hp-border)}
.hp-profileSectionTitle{margin:0 0 .75rem;font-size:.9375rem;font-weight:700;color:inherit}
.hp-profileSectionText{margin:0 0 .75rem;color:var(--hp-color-text-secondary);font-size:.875rem}
.hp-profileSectionItemList{margin:0;padding:0;list-style:none}
.hp-profileSectionItem{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;padding:.5rem 0}
.hp-profileSectionItemText{display:flex;flex-direction:column;flex:1 1 12rem;min-width:0;overflow-wrap:anywhere}
.hp-profileSectionItemSubtext{font-size:.8125rem;color:var(--hp-color-text-secondary)}
.hp-badge{padding:.0625rem .5rem;font-size:.75rem;font-weight:600;border:1px solid var(--hp-border);border-radius:999px;color:var(--hp-color-text-secondary)}
.hp-avatarImageActions{display:flex;flex-wrap:wrap;align-items:center;gap:.75rem;margin-bottom:var(--hp-spacing-unit)}
.hp-userProfileAvatarBox{width:3rem;height:3rem;font-size:1rem}
.hp-avatarImageActionsUpload,.hp-avatarImageActionsRemove,.hp-profileSectionItemButton,.hp-profileSectionPrimaryButton,.hp-profileSectionDangerButton{min-height:2.25rem;margin:0;padding:.375rem .75rem;font:inherit;font-size:.875rem;font-weight:var(--hp-font-weight);color:var(--hp-color-text);background:transparent;border:1px solid var(--hp-border);border-radius:var(--hp-border-radius);cursor:pointer}
.hp-profileSectionDangerButton{color:var(--hp-color-danger);border-color:var(--hp-color-danger)}
.hp-formFieldCheckbox{display:flex;align-items:center;gap:.5rem;font-size:.875rem}
.hp-formFieldCheckboxInput{width:1rem;height:1rem;margin:0;accent-color:var(--hp-color-primary)}
.hp-formFieldSuccessText{margin:0;font-size:.875rem;color:var(--hp-color-success)}
:where(.hp-profileSection) .hp-formButtonPrimary{width:auto;align-self:flex-start}
.hp-modalContent{padding:0;border:0;background:transparent;color:var(--hp-color-text);max-width:calc(100vw - 1rem);max-height:calc(100vh - 2rem);overflow:auto}
.hp-modalContent::backdrop{background:rgb(0 0 0/.5)}
.hp-modalCloseButton{position:absolute;top:.5rem;right:.5rem;z-index:1;width:2rem;height:2rem;padding:0;font-size:1.25rem;line-height:1;color:var(--hp-color-text);background:transparent;border:0;border-radius:var(--hp-border-radius);cursor:pointer}
.hp-modalCloseButton:where(:focus-visible){outline:2px solid var(--hp-color-primary)}
.hp-srOnly{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.hp-spinner{width:1rem;height:1rem;border:2px solid currentColor;border-right-color:transparent;border-radius:50%;animation:hp-spin .7s linear infinite}
:where(.hp-rootBox:not(.hp-animated)) .hp-spinner{animation:none}
@keyframes hp-spin{to{transform:rotate(360deg)}}
@media (prefers-reduced-motion:reduce){.hp-spinner{animation-duration:2s}}
`;

/**
 * Adds the stylesheet to `doc` (once; first in `<head>`, so the app's own sheets come after it), in
 * the cascade layer `layer` when one is named (the first component's `cssLayerName` decides).
 */
export function ensureStyles(doc, layer) {
  if (doc.getElementById("hallpass-ui-styles")) return;
  const style = doc.createElement("style");
  style.id = "hallpass-ui-styles";
  style.textContent = typeof layer === "string" && /^[\w-]+$/.test(layer) ? `@layer ${layer}{${CSS}}` : CSS;
  doc.head.prepend(style);
}
