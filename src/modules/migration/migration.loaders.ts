import DataLoader from 'dataloader';
import type { Operation } from '../../common/operation';
import type { MigrationService } from './migration.service';
import type { LicenseMigrationNode } from './migration.types';

/** The migrations of a request's licenses, one statement for all of them. */
export function migrationLoaders(migrations: MigrationService) {
  return {
    // The license in hand was read with the caller's rights: its migrations are the caller's to see.
    migrationsOfLicense: new DataLoader<string, LicenseMigrationNode[]>(async (ids) => {
      const byLicense = await migrations.ofLicenses(ids);
      return ids.map((id) => byLicense.get(id) ?? []);
    }),
  };
}

export type MigrationLoaders = ReturnType<typeof migrationLoaders>;
export type MigrationContext = Operation & { loaders: MigrationLoaders };
