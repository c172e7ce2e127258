// Types of `hallpass/ui`: the drop-in components as custom elements, Clerk's mount API, appearance.
import type { Hallpass, HallpassOptions } from "./index.js";

/** Clerk's appearance variables; each becomes a CSS custom property (`colorPrimary` → `--hp-color-primary`). */
export interface Variables {
  colorPrimary?: string;
  colorTextOnPrimaryBackground?: string;
  colorDanger?: string;
  colorSuccess?: string;
  colorText?: string;
  colorTextSecondary?: string;
  colorBackground?: string;
  colorInputText?: string;
  colorInputBackground?: string;
  colorNeutral?: string;
  fontFamily?: string;
  fontFamilyButtons?: string;
  fontSize?: string;
  fontWeight?: string | number;
  borderRadius?: string;
  spacingUnit?: string;
}

/**
 * Clerk's element names (`card`, `headerTitle`, `formButtonPrimary`, `formFieldInput`, …), also with an
 * id (`userButtonPopoverActionButton__signOut`): class names or a style object.
 */
export type Elements = Partial<Record<ElementName | `${ElementName}__${string}`, string | Partial<CSSStyleDeclaration>>>;

export type ElementName =
  | "rootBox" | "avatarBox" | "avatarImage" | "card" | "header" | "logoBox" | "logoImage" | "headerTitle" | "headerSubtitle" | "main" | "form"
  | "formFieldRow" | "formField" | "formFieldLabelRow" | "formFieldLabel" | "formFieldHintText" | "formFieldInputGroup"
  | "formFieldInput" | "formFieldInputShowPasswordButton" | "formFieldErrorText" | "formButtonPrimary" | "formButtonReset"
  | "formButtons" | "alert" | "alertText" | "spinner" | "loading" | "footer" | "footerAction" | "footerActionText"
  | "footerActionLink" | "footerPages" | "footerPagesLink" | "userButtonBox" | "userButtonTrigger" | "userButtonAvatarBox"
  | "userButtonOuterIdentifier" | "userButtonPopoverCard" | "userButtonPopoverActions" | "userButtonPopoverActionButton"
  | "userButtonPopoverActionButtonText" | "organizationSwitcherPopoverActionButtonText"
  | "userPreview" | "userPreviewAvatarBox" | "userPreviewTextContainer" | "userPreviewMainIdentifier"
  | "userPreviewSecondaryIdentifier" | "organizationSwitcherBox" | "organizationSwitcherTrigger"
  | "organizationSwitcherPopoverCard" | "organizationSwitcherPopoverActions" | "organizationSwitcherPreviewButton"
  | "organizationSwitcherPopoverActionButton" | "organizationSwitcherLoading" | "organizationPreview"
  | "organizationPreviewAvatarBox" | "organizationPreviewTextContainer" | "organizationPreviewMainIdentifier"
  | "organizationPreviewSecondaryIdentifier" | "organizationProfileSection" | "organizationProfileSectionTitle"
  | "organizationProfileSectionText" | "organizationProfileList" | "organizationProfileMemberRow"
  | "organizationProfileInvitationRow" | "organizationProfileMemberIdentity" | "organizationProfileMemberName"
  | "organizationProfileMemberIdentifier" | "organizationProfileMemberRole" | "organizationProfileRoleSelect"
  | "organizationProfileActionButton" | "organizationProfileDangerButton" | "profileSection" | "profileSectionTitle"
  | "profileSectionText" | "profileSectionItemList" | "profileSectionItem" | "profileSectionItemText"
  | "profileSectionItemSubtext" | "profileSectionItemButton" | "profileSectionPrimaryButton" | "profileSectionDangerButton" | "badge"
  | "avatarImageActions" | "avatarImageActionsUpload" | "avatarImageActionsRemove" | "userProfileAvatarBox"
  | "formFieldCheckbox" | "formFieldCheckboxInput" | "formFieldCheckboxLabel" | "formFieldSuccessText"
  | "modalContent" | "modalCloseButton";

export interface Layout {
  logoImageUrl?: string;
  logoLinkUrl?: string;
  helpPageUrl?: string;
  privacyPageUrl?: string;
  termsPageUrl?: string;
  /** Show the optional fields (first and last name on sign-up). Default true. */
  showOptionalFields?: boolean;
  /** Transitions and the spinner's motion. Default true. */
  animations?: boolean;
}

/** A base theme, such as `dark` from `hallpass/themes`. */
export interface BaseTheme {
  variables?: Variables;
  elements?: Elements;
  layout?: Layout;
}

export interface Appearance {
  /**
   * Puts the components' default styles in this cascade layer (for apps whose utilities are layered,
   * as Tailwind v4's: declare `@layer theme, base, hallpass, components, utilities;`). The first
   * component on the page decides.
   */
  cssLayerName?: string;
  baseTheme?: BaseTheme;
  variables?: Variables;
  elements?: Elements;
  layout?: Layout;
}

/** A string table (Clerk's `LocalizationResource` shape), whole or partial: `frFR` from `hallpass/localizations`. */
export type Localization = { [key: string]: string | Localization };

export interface RedirectProps {
  /** Always go here afterwards. */
  forceRedirectUrl?: string;
  /** Go here unless the page's `redirect_url` (same origin only) says otherwise. */
  fallbackRedirectUrl?: string;
  /** Older name of `fallbackRedirectUrl`. */
  redirectUrl?: string;
}

interface CommonProps {
  appearance?: Appearance;
  localization?: Localization;
  /** Accepted for Clerk compatibility: the components switch views in place (`"virtual"`). */
  routing?: "path" | "hash" | "virtual";
  path?: string;
}

export interface SignInProps extends RedirectProps, CommonProps {
  /** Where "Sign up" leads; without it the component switches to sign-up in place. */
  signUpUrl?: string;
  initialValues?: { emailAddress?: string };
}

export interface SignUpProps extends RedirectProps, CommonProps {
  /** Where "Sign in" leads; without it the component switches to sign-in in place. */
  signInUrl?: string;
  initialValues?: { emailAddress?: string };
  unsafeMetadata?: Record<string, unknown>;
}

export interface UserButtonProps extends CommonProps {
  afterSignOutUrl?: string;
  /** "Manage account" leads here; without it, it opens the user profile in a modal dialog. */
  userProfileUrl?: string;
  /** `"navigation"` without `userProfileUrl`: no "Manage account" entry. Default `"modal"`. */
  userProfileMode?: "modal" | "navigation";
  showName?: boolean;
}

export interface UserProfileProps extends CommonProps {
  /** Where to go after the account is deleted. */
  afterSignOutUrl?: string;
}

export interface OrganizationSwitcherProps extends CommonProps {
  hidePersonal?: boolean;
  afterSelectOrganizationUrl?: string;
  afterSelectPersonalUrl?: string;
  afterCreateOrganizationUrl?: string;
}

export interface CreateOrganizationProps extends CommonProps {
  afterCreateOrganizationUrl?: string;
}

export interface OrganizationProfileProps extends CommonProps {
  /** Where to go after leaving or deleting the organization. */
  afterLeaveOrganizationUrl?: string;
}

/** What every component shares unless its props say otherwise (a provider's level). */
export interface Provider {
  client?: Hallpass;
  appearance?: Appearance;
  localization?: Localization;
}

/** Sets the page's defaults: a loaded `client` or the options to load one, appearance, localization. */
export function configure(options: Provider & HallpassOptions): void;

export declare class HallpassElement<P> extends HTMLElement {
  props: P;
  provider: Provider | null;
}
export declare class SignIn extends HallpassElement<SignInProps> {}
export declare class SignUp extends HallpassElement<SignUpProps> {}
export declare class UserButton extends HallpassElement<UserButtonProps> {}
export declare class UserProfile extends HallpassElement<UserProfileProps> {}
export declare class OrganizationSwitcher extends HallpassElement<OrganizationSwitcherProps> {}
export declare class CreateOrganization extends HallpassElement<CreateOrganizationProps> {}
export declare class OrganizationProfile extends HallpassElement<OrganizationProfileProps> {}

export function mountSignIn(node: Element, props?: SignInProps, provider?: Provider): SignIn;
export function mountSignUp(node: Element, props?: SignUpProps, provider?: Provider): SignUp;
export function mountUserButton(node: Element, props?: UserButtonProps, provider?: Provider): UserButton;
export function mountUserProfile(node: Element, props?: UserProfileProps, provider?: Provider): UserProfile;
export function mountOrganizationSwitcher(node: Element, props?: OrganizationSwitcherProps, provider?: Provider): OrganizationSwitcher;
export function mountCreateOrganization(node: Element, props?: CreateOrganizationProps, provider?: Provider): CreateOrganization;
export function mountOrganizationProfile(node: Element, props?: OrganizationProfileProps, provider?: Provider): OrganizationProfile;
export function unmountSignIn(node: Element): void;
export function unmountSignUp(node: Element): void;
export function unmountUserButton(node: Element): void;
export function unmountUserProfile(node: Element): void;
export function unmountOrganizationSwitcher(node: Element): void;
export function unmountCreateOrganization(node: Element): void;
export function unmountOrganizationProfile(node: Element): void;

export declare const enUS: Localization;

declare global {
  interface HTMLElementTagNameMap {
    "hallpass-sign-in": SignIn;
    "hallpass-sign-up": SignUp;
    "hallpass-user-button": UserButton;
    "hallpass-user-profile": UserProfile;
    "hallpass-organization-switcher": OrganizationSwitcher;
    "hallpass-create-organization": CreateOrganization;
    "hallpass-organization-profile": OrganizationProfile;
  }
}
