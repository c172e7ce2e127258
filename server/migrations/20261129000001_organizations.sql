-- Organizations (issue 15): organizations, their members and invitations, roles and permissions, and
-- each session's active organization. Portable SQL, as every migration here. Every write to these
-- tables happens in one write transaction per change (see src/store/mod.rs), so an outbox row can
-- join it.

CREATE TABLE organizations (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    -- unique; lower-case letters, digits and single hyphens
    slug                    TEXT NOT NULL UNIQUE,
    image_url               TEXT NOT NULL DEFAULT '',
    -- 0: no limit
    max_allowed_memberships BIGINT NOT NULL,
    -- 0 or 1
    admin_delete_enabled    BIGINT NOT NULL,
    public_metadata         TEXT NOT NULL DEFAULT '{}',
    private_metadata        TEXT NOT NULL DEFAULT '{}',
    created_by              TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX organizations_created_at ON organizations (created_at);
CREATE INDEX organizations_created_by ON organizations (created_by);

-- `org:<feature>:<action>`; the system ones (`org:sys_…`) are seeded below and never change.
CREATE TABLE organization_permissions (
    id              TEXT PRIMARY KEY,
    key             TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    -- 'system' | 'user'
    permission_type TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- `org:<name>`: a named set of permissions. The key never changes.
CREATE TABLE organization_roles (
    id          TEXT PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE organization_role_permissions (
    role_id       TEXT NOT NULL REFERENCES organization_roles (id) ON DELETE CASCADE,
    permission_id TEXT NOT NULL REFERENCES organization_permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);
CREATE INDEX organization_role_permissions_permission_id ON organization_role_permissions (permission_id);

-- A role in use by a member cannot be deleted (no ON DELETE: the delete fails).
CREATE TABLE organization_memberships (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id          TEXT NOT NULL REFERENCES organization_roles (id),
    public_metadata  TEXT NOT NULL DEFAULT '{}',
    private_metadata TEXT NOT NULL DEFAULT '{}',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (organization_id, user_id)
);
CREATE INDEX organization_memberships_user_id ON organization_memberships (user_id);
CREATE INDEX organization_memberships_role_id ON organization_memberships (role_id);

-- A pending invitation past `expires_at` reads as expired; it is marked so when the address is
-- invited again. Deleting a role (refused while a pending invitation has it) takes its closed
-- invitations along.
CREATE TABLE organization_invitations (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- normalised like a sign-up's address
    email_address    TEXT NOT NULL,
    role_id          TEXT NOT NULL REFERENCES organization_roles (id) ON DELETE CASCADE,
    -- 'pending' | 'accepted' | 'revoked' | 'expired'
    status           TEXT NOT NULL,
    inviter_user_id  TEXT REFERENCES users (id) ON DELETE SET NULL,
    public_metadata  TEXT NOT NULL DEFAULT '{}',
    private_metadata TEXT NOT NULL DEFAULT '{}',
    expires_at       BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX organization_invitations_organization_id ON organization_invitations (organization_id, status);
CREATE INDEX organization_invitations_email_address ON organization_invitations (email_address, status);
CREATE INDEX organization_invitations_role_id ON organization_invitations (role_id);
CREATE INDEX organization_invitations_inviter_user_id ON organization_invitations (inviter_user_id);
-- At most one pending invitation per address and organization.
CREATE UNIQUE INDEX organization_invitations_pending ON organization_invitations (organization_id, email_address)
    WHERE status = 'pending';

-- The session's active organization: its session tokens carry it (`o`). Deleting the organization
-- clears it; removing the member clears it in the same transaction.
ALTER TABLE sessions ADD COLUMN active_organization_id TEXT REFERENCES organizations (id) ON DELETE SET NULL;
CREATE INDEX sessions_active_organization_id ON sessions (active_organization_id);

-- Clerk's system permissions and the two default roles.
INSERT INTO organization_permissions (id, key, name, description, permission_type, created_at, updated_at) VALUES
    ('perm_sys_profile_manage', 'org:sys_profile:manage', 'Manage organization',
     'Update the organization''s name and slug.', 'system', 1795910400000, 1795910400000),
    ('perm_sys_profile_delete', 'org:sys_profile:delete', 'Delete organization',
     'Delete the organization.', 'system', 1795910400000, 1795910400000),
    ('perm_sys_memberships_read', 'org:sys_memberships:read', 'Read members',
     'See the members and the invitations.', 'system', 1795910400000, 1795910400000),
    ('perm_sys_memberships_manage', 'org:sys_memberships:manage', 'Manage members',
     'Invite members, change their roles, remove them, revoke invitations.', 'system', 1795910400000,
     1795910400000);

INSERT INTO organization_roles (id, key, name, description, created_at, updated_at) VALUES
    ('role_admin', 'org:admin', 'Admin', 'Every permission of the organization.', 1795910400000, 1795910400000),
    ('role_member', 'org:member', 'Member', 'Sees the other members.', 1795910400000, 1795910400000);

INSERT INTO organization_role_permissions (role_id, permission_id) VALUES
    ('role_admin', 'perm_sys_profile_manage'),
    ('role_admin', 'perm_sys_profile_delete'),
    ('role_admin', 'perm_sys_memberships_read'),
    ('role_admin', 'perm_sys_memberships_manage'),
    ('role_member', 'perm_sys_memberships_read');
