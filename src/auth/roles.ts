import { registerEnumType } from 'type-graphql';

/** The role of an API token. Every role but PLATFORM_ADMIN is bound to one organization. */
export enum Role {
  /** Everything, in every organization: the vendor's operators. */
  PLATFORM_ADMIN = 'PLATFORM_ADMIN',
  /** Everything within one organization, including its tokens. */
  ORG_ADMIN = 'ORG_ADMIN',
  /** Licenses and seats of one organization. */
  LICENSE_MANAGER = 'LICENSE_MANAGER',
  /** Reads everything of one organization, including its audit log and token list; changes nothing. */
  AUDITOR = 'AUDITOR',
  /** Reads licenses, seats and leases of one organization, and subscribes to its streams. */
  INTEGRATOR = 'INTEGRATOR',
}

registerEnumType(Role, {
  name: 'Role',
  description: 'The role of an API token: what it may do. Every role but PLATFORM_ADMIN is bound to one organization.',
  valuesConfig: {
    PLATFORM_ADMIN: { description: "Everything, in every organization: the vendor's operators." },
    ORG_ADMIN: { description: 'Everything within one organization, including its tokens and audit log.' },
    LICENSE_MANAGER: { description: 'Reads one organization, and manages its licenses and seats.' },
    AUDITOR: { description: 'Reads everything of one organization, including its audit log and token list; changes nothing.' },
    INTEGRATOR: { description: 'Reads licenses, seats and leases of one organization, and subscribes to its streams.' },
  },
});

/** What a principal may do; services ask for one of these, never for a role. */
export enum Permission {
  ORGANIZATION_MANAGE = 'organization:manage',
  ORGANIZATION_READ = 'organization:read',
  CATALOG_MANAGE = 'catalog:manage',
  LICENSE_READ = 'license:read',
  LICENSE_MANAGE = 'license:manage',
  SEAT_MANAGE = 'seat:manage',
  TOKEN_READ = 'token:read',
  TOKEN_MANAGE = 'token:manage',
  AUDIT_READ = 'audit:read',
}

const READ = [Permission.ORGANIZATION_READ, Permission.LICENSE_READ];

export const PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  [Role.PLATFORM_ADMIN]: new Set(Object.values(Permission)),
  [Role.ORG_ADMIN]: new Set([
    ...READ,
    Permission.LICENSE_MANAGE,
    Permission.SEAT_MANAGE,
    Permission.TOKEN_READ,
    Permission.TOKEN_MANAGE,
    Permission.AUDIT_READ,
  ]),
  [Role.LICENSE_MANAGER]: new Set([...READ, Permission.LICENSE_MANAGE, Permission.SEAT_MANAGE]),
  // Who holds access is part of an audit: auditors read the token list (never a secret).
  [Role.AUDITOR]: new Set([...READ, Permission.TOKEN_READ, Permission.AUDIT_READ]),
  [Role.INTEGRATOR]: new Set(READ),
};
