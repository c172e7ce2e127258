// `hallpass/organizations`: organizations as Clerk's resources, over a loaded `Hallpass`. Times are
// milliseconds since the epoch. Every call throws `HallpassError` (a stable `code`) as the SDK does.
import type { Hallpass, Metadata, Organization } from "./index.js";

/** A page of a list, as Clerk's `ClerkPaginatedResponse`. */
export interface ClerkPaginatedResponse<T> {
  data: T[];
  total_count: number;
}

/** Clerk's paging params: `initialPage` from 1 (default 1), `pageSize` 1 to 500 (default 10). */
export interface PageParams {
  initialPage?: number;
  pageSize?: number;
}

export interface GetMembershipsParams extends PageParams {
  /** Part of a member's email address, first or last name. */
  query?: string;
  /** Only members with this role key, e.g. `org:admin`. */
  role?: string;
}

export type InvitationStatus = "pending" | "accepted" | "revoked" | "expired";

export interface GetInvitationsParams extends PageParams {
  status?: InvitationStatus;
}

/** The public part of a member's user. */
export interface PublicUserData {
  userId: string;
  /** The user's primary email address. */
  identifier: string;
  firstName: string | null;
  lastName: string | null;
  imageUrl: string;
  hasImage: boolean;
}

/** The public part of an organization, as an invitee sees it. */
export interface PublicOrganizationData {
  id: string;
  name: string;
  slug: string;
  imageUrl: string;
  hasImage: boolean;
}

/** Clerk's `OrganizationResource`: an organization and what a member may do with it. */
export interface OrganizationResource extends Organization {
  reload(): Promise<OrganizationResource>;
  /** Needs `org:sys_profile:manage`. */
  update(params: { name?: string; slug?: string }): Promise<OrganizationResource>;
  /** Needs `org:sys_profile:delete`. */
  destroy(): Promise<{ id: string; deleted: boolean }>;
  /** Needs `org:sys_memberships:read`. */
  getMemberships(params?: GetMembershipsParams): Promise<ClerkPaginatedResponse<OrganizationMembership>>;
  /** Needs `org:sys_memberships:read`. */
  getInvitations(params?: GetInvitationsParams): Promise<ClerkPaginatedResponse<OrganizationInvitation>>;
  /** The roles a member can be given. */
  getRoles(params?: PageParams): Promise<ClerkPaginatedResponse<Role>>;
  /** Needs `org:sys_memberships:manage`; `role` defaults to the instance's default role. */
  inviteMember(params: { emailAddress: string; role?: string }): Promise<OrganizationInvitation>;
  /** Needs `org:sys_memberships:manage`. */
  updateMember(params: { userId: string; role: string }): Promise<OrganizationMembership>;
  /** Needs `org:sys_memberships:manage` (or is yourself: you leave). */
  removeMember(userId: string): Promise<OrganizationMembership>;
}

/** A user's membership of an organization (Clerk's `OrganizationMembershipResource`). */
export interface OrganizationMembership {
  id: string;
  organization: OrganizationResource;
  publicUserData: PublicUserData;
  /** The role's key, e.g. `org:admin`. */
  role: string;
  roleName: string;
  /** Every permission the role grants, e.g. `org:sys_memberships:read`. */
  permissions: string[];
  publicMetadata: Metadata;
  createdAt: number;
  updatedAt: number;
  /** Changes the member's role (`org:sys_memberships:manage`). */
  update(params: { role: string }): Promise<OrganizationMembership>;
  /** Removes the member (`org:sys_memberships:manage`; yourself: you leave). */
  destroy(): Promise<OrganizationMembership>;
}

/** An invitation to join an organization: the organization's, or one addressed to you. */
export interface OrganizationInvitation {
  id: string;
  emailAddress: string;
  role: string;
  roleName: string;
  organizationId: string;
  /** The organization's name and slug, for the invitee. */
  publicOrganizationData: PublicOrganizationData | null;
  status: InvitationStatus;
  publicMetadata: Metadata;
  /** No invitation link is sent yet (always `null`, as the field Clerk has). */
  url: string | null;
  expiresAt: number;
  createdAt: number;
  updatedAt: number;
  /** The organization withdraws it (`org:sys_memberships:manage`). */
  revoke(): Promise<OrganizationInvitation>;
  /** The invitee joins: answers the new membership. */
  accept(): Promise<OrganizationMembership>;
  /** The invitee declines it (it becomes `revoked`). */
  decline(): Promise<OrganizationInvitation>;
}

export type PermissionType = "system" | "user";

export interface Permission {
  id: string;
  /** `org:<feature>:<action>` */
  key: string;
  name: string;
  description: string;
  type: PermissionType;
  createdAt: number;
  updatedAt: number;
}

export interface Role {
  id: string;
  /** `org:<name>`, e.g. `org:admin`. */
  key: string;
  name: string;
  description: string | null;
  permissions: Permission[];
  isCreatorEligible: boolean;
  createdAt: number;
  updatedAt: number;
}

/** An organization you are a member of, by id or slug. */
export function getOrganization(hp: Hallpass, idOrSlug: string): Promise<OrganizationResource>;

/** Your memberships, each with its organization, paged. */
export function getOrganizationMemberships(
  hp: Hallpass,
  params?: PageParams,
): Promise<ClerkPaginatedResponse<OrganizationMembership>>;

/** The invitations addressed to your email addresses, paged. */
export function getOrganizationInvitations(
  hp: Hallpass,
  params?: GetInvitationsParams,
): Promise<ClerkPaginatedResponse<OrganizationInvitation>>;

/** Leaves an organization; answers the membership that ended. */
export function leaveOrganization(hp: Hallpass, organizationId: string): Promise<OrganizationMembership>;
