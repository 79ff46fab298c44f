import type { GraphQLResolveInfo } from 'graphql';
import { Args, Ctx, FieldResolver, Info, Query, Resolver, Root } from 'type-graphql';
import type { Operation } from '../../common/operation';
import { requestsField } from '../../common/requested-fields';
import type { UsageReportService } from './usage-report';
import { usageReportCsv } from './usage-report-csv';
import { UsageReport, UsageReportArgs } from './usage-report.types';

@Resolver(() => UsageReport)
export class UsageReportResolver {
  constructor(private readonly reports: UsageReportService) {}

  @Query(() => UsageReport, {
    description:
      'Usage over a window, per license and in total: each metric’s average, peak, 95th percentile of daily peaks, utilization, time over thresholds, denials and unmet demand; features’ uses and last use; named seats by recent activity. Needs LICENSE_READ.',
  })
  usageReport(
    @Args(() => UsageReportArgs) args: UsageReportArgs,
    @Ctx() op: Operation,
    @Info() info: GraphQLResolveInfo,
  ): Promise<UsageReport> {
    // The series and the time over thresholds cost the most to make: only when the operation selects them (the CSV holds the latter).
    return this.reports.report(op, args, {
      series: requestsField(info, 'series'),
      thresholds: requestsField(info, 'overThresholds') || requestsField(info, 'csv'),
    });
  }

  @FieldResolver(() => String, {
    description:
      'The same report as CSV for spreadsheets: a row per license and metric (METRIC), feature (FEATURE) and seat summary (SEATS), then a row per metric of the totals (TOTAL).',
  })
  csv(@Root() report: UsageReport): string {
    return usageReportCsv(report);
  }
}
