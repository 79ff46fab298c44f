import { type EntityManager, raw } from '@mikro-orm/knex';
import type { Clock } from '../../common/clock';
import type { SqlGateway } from '../../db/sql';
import { AuditAction } from '../audit/audit-actions';
import { Permission } from '../../auth/roles';
import type { Operation } from '../../common/operation';
import { findPage, type Page, type PageArgs } from '../../common/pagination';
import { AppError } from '../../errors';
import type { AuditService } from '../audit/audit.service';
import { Organization } from './organization.entity';
import type { CreateOrganizationInput, OrganizationFilter, UpdateOrganizationInput } from './organization.types';

const snapshot = (o: Organization) => ({ id: o.id, name: o.name });

/** Responsible for customer accounts. Talks to the audit log. */
export class OrganizationService {
  constructor(
    private readonly db: SqlGateway,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** Loads an organization the caller may see, or fails as if it did not exist. */
  async get(op: Operation, id: string): Promise<Organization> {
    op.principal.require(Permission.ORGANIZATION_READ);
    const organization = op.principal.mayAccessOrganization(id) ? await op.em.findOne(Organization, { id }) : null;
    if (!organization) throw AppError.notFound('Organization', id);
    return organization;
  }

  async list(op: Operation, filter: OrganizationFilter, page: PageArgs): Promise<Page<Organization>> {
    op.principal.require(Permission.ORGANIZATION_READ);
    const scoped = op.principal.scopeOrganization(undefined);
    const where: Record<string, unknown> = {};
    if (scoped) where.id = scoped;
    if (filter.nameContains) {
      // Case-insensitive on both databases, and `%`, `_` and `\` are searched for literally, not as wildcards.
      const pattern = `%${filter.nameContains.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
      where[raw((alias) => `lower(${alias}.name) like ? escape '\\'`, [pattern])] = [];
    }
    return findPage(op.em, Organization, where, page, (o) => o);
  }

  async byIds(em: EntityManager, ids: readonly string[]): Promise<Organization[]> {
    return em.find(Organization, { id: { $in: [...ids] } });
  }

  async create(op: Operation, input: CreateOrganizationInput): Promise<Organization> {
    op.principal.require(Permission.ORGANIZATION_MANAGE);
    const name = input.name.trim();
    if (!name) throw AppError.badInput('An organization needs a name.', 'name');
    return this.db.withEntities(op.em, async (em, tx) => {
      if (await em.count(Organization, { name })) throw AppError.conflict(`An organization named "${name}" exists already.`);
      const organization = em.create(Organization, { name });
      await this.audit.record(tx, {
        actor: op.principal.requireActor(),
        requestId: op.requestId,
        at: this.clock.now(),
        organizationId: organization.id,
        action: AuditAction.ORGANIZATION_CREATE,
        objectType: 'Organization',
        objectId: organization.id,
        after: snapshot(organization),
      });
      return organization;
    });
  }

  async update(op: Operation, id: string, input: UpdateOrganizationInput): Promise<Organization> {
    op.principal.require(Permission.ORGANIZATION_MANAGE, id);
    const name = input.name.trim();
    if (!name) throw AppError.badInput('An organization needs a name.', 'name');
    return this.db.withEntities(op.em, async (em, tx) => {
      const organization = await em.findOne(Organization, { id });
      if (!organization) throw AppError.notFound('Organization', id);
      if (await em.count(Organization, { name, id: { $ne: id } })) {
        throw AppError.conflict(`An organization named "${name}" exists already.`);
      }
      const before = snapshot(organization);
      organization.name = name;
      await this.audit.record(tx, {
        actor: op.principal.requireActor(),
        requestId: op.requestId,
        at: this.clock.now(),
        organizationId: id,
        action: AuditAction.ORGANIZATION_UPDATE,
        objectType: 'Organization',
        objectId: id,
        before,
        after: snapshot(organization),
      });
      return organization;
    });
  }
}
