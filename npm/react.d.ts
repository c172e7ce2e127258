// `hallpass/react`: React bindings for the Hallpass SDK. React 18 and 19.
import type { ReactNode } from "react";
import type {
  AuthState,
  CreateOrganizationParams,
  GetTokenOptions,
  Hallpass,
  HallpassError,
  HallpassOptions,
  HasParams,
  Organization,
  Session,
  SetActiveParams,
  UseAuthReturn,
} from "./index.js";
import type {
  GetInvitationsParams,
  GetMembershipsParams,
  OrganizationInvitation,
  OrganizationMembership,
  OrganizationResource,
  PageParams,
} from "./organizations.js";
import type {
  Appearance,
  CreateOrganizationProps,
  Localization,
  OrganizationProfileProps,
  OrganizationSwitcherProps,
  SignInProps,
  SignUpProps,
  UserButtonProps,
  UserProfileProps,
} from "./ui.js";
import type {
  SetActiveParams as FlowsSetActiveParams,
  SignIn as SignInResource,
  SignUp as SignUpResource,
  UserResource,
} from "./flows.js";

export type HallpassProviderProps = HallpassOptions & {
  children?: ReactNode;
  /** An instance the app already loaded; the options are then ignored. */
  client?: Hallpass;
  /** The drop-in components' appearance, for every one below (a component's own wins). */
  appearance?: Appearance;
  /** The drop-in components' strings (`frFR` from `hallpass/localizations`, or overrides). */
  localization?: Localization;
};

/**
 * Makes one Hallpass client available to the hooks below it. StrictMode-safe: the same options give
 * the same client for the life of the page.
 */
export function HallpassProvider(props: HallpassProviderProps): ReactNode;

/** The whole auth state; `isLoaded: false` until the client has loaded. */
export function useAuthState(): AuthState;

/** The loaded client (for `signIn`, `signUp`, `fetch`), or `null` before it has loaded. */
export function useHallpass(): Hallpass | null;

/**
 * `{ isLoaded, isSignedIn, user }`, like Clerk's `useUser()`; the user has Clerk's
 * `createEmailAddress` and its addresses their verification methods (hallpass/flows).
 */
export function useUser():
  | { isLoaded: false; isSignedIn: undefined; user: undefined }
  | { isLoaded: true; isSignedIn: false; user: null }
  | { isLoaded: true; isSignedIn: true; user: UserResource };

export type UseSessionReturn =
  | { isLoaded: false; isSignedIn: undefined; session: undefined }
  | { isLoaded: true; isSignedIn: false; session: null }
  | { isLoaded: true; isSignedIn: true; session: Session };

/** `{ isLoaded, isSignedIn, session }`, like Clerk's `useSession()`. */
export function useSession(): UseSessionReturn;

/**
 * `{ isLoaded, isSignedIn, userId, sessionId, orgId, orgRole, orgSlug, getToken, signOut, has }`, like
 * Clerk's `useAuth()`. `getToken` and `signOut` wait for the client when called before it has loaded.
 */
export function useAuth(): UseAuthReturn;

/** Renders its children only while a user is signed in. */
export function SignedIn(props: { children?: ReactNode }): ReactNode;

/** Renders its children only once loaded and signed out. */
export function SignedOut(props: { children?: ReactNode }): ReactNode;

export type ProtectProps = {
  children?: ReactNode;
  /** Rendered when signed out or when the check fails. Default: nothing. */
  fallback?: ReactNode;
} & (
  | { role: string; permission?: never; condition?: never }
  | { permission: string; role?: never; condition?: never }
  | { condition: (has: (params: HasParams) => boolean) => boolean; role?: never; permission?: never }
  | { role?: never; permission?: never; condition?: never }
);

/**
 * Renders its children when signed in and the check passes (`role`, `permission` or
 * `condition(has)`), `fallback` otherwise, and nothing while loading. Hiding content is not access
 * control: your backend must verify the session token.
 */
export function Protect(props: ProtectProps): ReactNode;

/** Clerk's paginated resource (`PaginatedResources`) of a hook: one page, or every page so far (`infinite`). */
export interface PaginatedResources<T> {
  data: T[];
  /** The total over every page. */
  count: number;
  error: HallpassError | null;
  isError: boolean;
  /** Fetching, with nothing to show yet. */
  isLoading: boolean;
  isFetching: boolean;
  page: number;
  pageCount: number;
  fetchPage(page: number | ((current: number) => number)): void;
  fetchNext(): void;
  fetchPrevious(): void;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  /** Fetches the page again (after a change: an invitation sent, a member removed). */
  revalidate(): void;
}

/** `true` for the defaults, or paging and filters. */
export type PagingOption<P> = true | (P & { infinite?: boolean; keepPreviousData?: boolean });

export interface UseOrganizationParams {
  memberships?: PagingOption<GetMembershipsParams>;
  invitations?: PagingOption<GetInvitationsParams>;
}

export type UseOrganizationReturn = {
  memberships: PaginatedResources<OrganizationMembership> | undefined;
  invitations: PaginatedResources<OrganizationInvitation> | undefined;
} & (
  | { isLoaded: false; organization: undefined; membership: undefined }
  | { isLoaded: true; organization: OrganizationResource | null; membership: OrganizationMembership | null }
);

/**
 * The active organization (`null` for the personal account), your membership of it, and its members
 * and invitations when asked for, like Clerk's `useOrganization()`.
 */
export function useOrganization(params?: UseOrganizationParams): UseOrganizationReturn;

export interface UseOrganizationListParams {
  userMemberships?: PagingOption<PageParams>;
  userInvitations?: PagingOption<GetInvitationsParams>;
}

export interface UseOrganizationListReturn {
  isLoaded: boolean;
  createOrganization(params: CreateOrganizationParams): Promise<Organization>;
  setActive(params: SetActiveParams): Promise<void>;
  userMemberships: PaginatedResources<OrganizationMembership> | undefined;
  userInvitations: PaginatedResources<OrganizationInvitation> | undefined;
}

/** Your memberships and invitations, `createOrganization` and `setActive`, like Clerk's `useOrganizationList()`. */
export function useOrganizationList(params?: UseOrganizationListParams): UseOrganizationListReturn;

export type { GetTokenOptions };

export type UseSignInReturn =
  | { isLoaded: false; signIn: undefined; setActive: undefined }
  | { isLoaded: true; signIn: SignInResource; setActive(params: FlowsSetActiveParams): Promise<void> };

export type UseSignUpReturn =
  | { isLoaded: false; signUp: undefined; setActive: undefined }
  | { isLoaded: true; signUp: SignUpResource; setActive(params: FlowsSetActiveParams): Promise<void> };

/** `{ isLoaded, signIn, setActive }`, like Clerk's `useSignIn()` (hallpass/flows' sign-in). */
export function useSignIn(): UseSignInReturn;

/** `{ isLoaded, signUp, setActive }`, like Clerk's `useSignUp()` (hallpass/flows' sign-up). */
export function useSignUp(): UseSignUpReturn;

/** Clerk's `<SignIn>`, over hallpass/ui's `<hallpass-sign-in>` (loaded when it first renders). */
export function SignIn(props: SignInProps): ReactNode;
/** Clerk's `<SignUp>`, over hallpass/ui's `<hallpass-sign-up>`. */
export function SignUp(props: SignUpProps): ReactNode;
/** Clerk's `<UserButton>`, over hallpass/ui's `<hallpass-user-button>`. */
export function UserButton(props: UserButtonProps): ReactNode;
/** Clerk's `<UserProfile>`, over hallpass/ui's `<hallpass-user-profile>`. */
export function UserProfile(props: UserProfileProps): ReactNode;
/** Clerk's `<OrganizationSwitcher>`, over hallpass/ui's `<hallpass-organization-switcher>`. */
export function OrganizationSwitcher(props: OrganizationSwitcherProps): ReactNode;
/** Clerk's `<CreateOrganization>`, over hallpass/ui's `<hallpass-create-organization>`. */
export function CreateOrganization(props: CreateOrganizationProps): ReactNode;
/** Clerk's `<OrganizationProfile>`, over hallpass/ui's `<hallpass-organization-profile>`. */
export function OrganizationProfile(props: OrganizationProfileProps): ReactNode;
