import { AppError } from '../errors';
import { PERMISSIONS, type Permission, Role } from './roles';

/** Who a change is attributed to in the audit log. */
export interface Actor {
  type: 'API_TOKEN' | 'LICENSE_KEY' | 'SYSTEM';
  id: string | null;
  label: string;
}

/**
 * The caller of a management operation: an API token with a role and (except for platform admins) one
 * organization, or nobody. Services ask it for permissions and organization scope; resolvers never decide.
 */
export class Principal {
  private constructor(
    readonly actor: Actor | null,
    readonly role: Role | null,
    /** The one organization the principal is bound to; null for platform admins and nobody. */
    readonly organizationId: string | null,
  ) {}

  static anonymous(): Principal {
    return new Principal(null, null, null);
  }

  static apiToken(token: { id: string; name: string; role: Role; organizationId: string | null }): Principal {
    return new Principal({ type: 'API_TOKEN', id: token.id, label: token.name }, token.role, token.organizationId);
  }

  /** Jobs of the server itself (the lease reaper). */
  static system(label: string): Principal {
    return new Principal({ type: 'SYSTEM', id: null, label }, Role.PLATFORM_ADMIN, null);
  }

  get isPlatformAdmin(): boolean {
    return this.role === Role.PLATFORM_ADMIN;
  }

  can(permission: Permission): boolean {
    return this.role !== null && PERMISSIONS[this.role].has(permission);
  }

  /** The actor for the audit log; only an authenticated principal gets this far. */
  requireActor(): Actor {
    if (!this.actor) throw AppError.unauthenticated();
    return this.actor;
  }

  /**
   * Requires a permission, and when an organization is named, that the principal may act in it.
   * Callers name the organization of the object they touch, so a token of one organization reaches no other.
   */
  require(permission: Permission, organizationId?: string | null): void {
    if (!this.actor || this.role === null) throw AppError.unauthenticated();
    if (!this.can(permission)) {
      throw AppError.forbidden(`The ${this.role} role lacks the ${permission} permission.`);
    }
    if (organizationId !== undefined && !this.mayAccessOrganization(organizationId)) {
      throw AppError.forbidden('This token is bound to another organization.');
    }
  }

  /**
   * Requires a permission over an object of an organization. An object of another organization is reported as
   * not found: a token learns nothing of what lies outside its organization, not even that it exists.
   */
  requireObject(permission: Permission, organizationId: string | null, entity: string, id: string): void {
    this.require(permission);
    if (!this.mayAccessOrganization(organizationId)) throw AppError.notFound(entity, id);
  }

  mayAccessOrganization(organizationId: string | null): boolean {
    return this.isPlatformAdmin || (organizationId !== null && organizationId === this.organizationId);
  }

  /** The organization a list is confined to: the principal's own, or the one asked for by a platform admin. */
  scopeOrganization(requested: string | null | undefined): string | null {
    if (this.isPlatformAdmin) return requested ?? null;
    if (requested && requested !== this.organizationId) {
      throw AppError.forbidden('This token is bound to another organization.');
    }
    return this.organizationId;
  }
}
