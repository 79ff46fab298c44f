import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { Operation } from '../../common/operation';
import type { DiagnosticsService } from './diagnostics.service';
import { Diagnostics } from './diagnostics.types';
import { LicenseDiagnostics } from './license-diagnostics.types';

@Resolver()
export class DiagnosticsResolver {
  constructor(private readonly service: DiagnosticsService) {}

  @Query(() => Diagnostics, {
    description:
      'Checks the server, its database, Redis, clocks, signing keys, periodic jobs, rate limits and secrets, each with what it found and what to do (`npm run doctor` runs the same checks from the command line). Platform admins only.',
  })
  diagnostics(@Ctx() op: Operation): Promise<Diagnostics> {
    return this.service.report(op);
  }

  @Query(() => LicenseDiagnostics, {
    description:
      'Why a license counts what it counts: the named seats and live leases behind its user and session counts, and the usage reports behind its storage and API-call totals in the current period.',
  })
  licenseDiagnostics(@Arg('id', () => ID, { description: 'The license.' }) id: string, @Ctx() op: Operation): Promise<LicenseDiagnostics> {
    return this.service.explainLicense(op, id);
  }
}
