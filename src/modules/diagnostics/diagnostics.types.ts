import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

/** How a check came out. */
export enum DiagnosticStatus {
  OK = 'OK',
  WARNING = 'WARNING',
  ERROR = 'ERROR',
}

registerEnumType(DiagnosticStatus, {
  name: 'DiagnosticStatus',
  description: 'How a diagnostic check came out.',
  valuesConfig: {
    OK: { description: 'As it should be.' },
    WARNING: { description: 'Works, but needs attention before it becomes a problem.' },
    ERROR: { description: 'Broken, or about to break something: fix it now.' },
  },
});

/** What a check looks at: stable, for scripts and alerting to key on. */
export enum DiagnosticCode {
  DATABASE_REACHABLE = 'DATABASE_REACHABLE',
  MIGRATIONS_CURRENT = 'MIGRATIONS_CURRENT',
  REDIS_CONNECTED = 'REDIS_CONNECTED',
  DATABASE_CLOCK = 'DATABASE_CLOCK',
  INSTANCE_CLOCKS = 'INSTANCE_CLOCKS',
  INSTANCE_SECRETS = 'INSTANCE_SECRETS',
  SIGNING_KEY = 'SIGNING_KEY',
  RETIRING_SIGNING_KEYS = 'RETIRING_SIGNING_KEYS',
  JOB_LAST_RUN = 'JOB_LAST_RUN',
  RATE_LIMITS = 'RATE_LIMITS',
  SERVER_SECRET = 'SERVER_SECRET',
}

registerEnumType(DiagnosticCode, {
  name: 'DiagnosticCode',
  description: 'What a diagnostic check looks at.',
  valuesConfig: {
    DATABASE_REACHABLE: { description: 'The database answers, and how fast (the value: a round trip in milliseconds).' },
    MIGRATIONS_CURRENT: { description: 'The database holds every migration this build knows (the value: applied of known).' },
    REDIS_CONNECTED: { description: 'Redis answers, and how fast; or it is not configured.' },
    DATABASE_CLOCK: {
      description: "This server's clock against the database's (PostgreSQL's `now()`); SQLite has no clock of its own.",
    },
    INSTANCE_CLOCKS: {
      description: "Each running instance's clock against the database's, as the instances last recorded them.",
    },
    INSTANCE_SECRETS: { description: 'The running instances share one server secret (SECRET_KEY), as they must.' },
    SIGNING_KEY: { description: 'A key to sign license certificates with is present, and this server can open it.' },
    RETIRING_SIGNING_KEYS: {
      description: 'Retired signing keys still published because certificates they signed are still valid, and until when.',
    },
    JOB_LAST_RUN: { description: "A periodic job's last run (the subject names the job): when, how it ended, on which instance." },
    RATE_LIMITS: { description: 'The rate limits in force, and where they are counted.' },
    SERVER_SECRET: {
      description:
        "The server secret's id and the previous one's, and how many license keys, API tokens and sealed signing keys are still stored under each: when SECRET_KEY_PREVIOUS may be removed.",
    },
  },
});

/** One check's outcome. */
export interface CheckResult {
  code: DiagnosticCode;
  subject: string | null;
  status: DiagnosticStatus;
  value: string | null;
  explanation: string;
  action: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'One diagnostic check: what it found, what it means, and what to do.' })
export class DiagnosticCheck implements CheckResult {
  @Field(() => DiagnosticCode)
  code!: DiagnosticCode;

  @Field(() => String, { nullable: true, description: 'What the check is about when it is one of several of its code (a job).' })
  subject!: string | null;

  @Field(() => DiagnosticStatus)
  status!: DiagnosticStatus;

  @Field(() => String, { nullable: true, description: 'What was measured, with its unit ("3 ms", "20 of 20"); null when nothing.' })
  value!: string | null;

  @Field(() => String, { description: 'What was found and what it means.' })
  explanation!: string;

  @Field(() => String, { nullable: true, description: 'What to do about it; null when nothing is to be done.' })
  action!: string | null;
}

@ObjectType('ServerInstance', { simpleResolvers: true, description: 'A server instance as it last recorded itself.' })
export class ServerInstanceNode {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  host!: string;

  @Field(() => Int, { description: 'Its process id on its host.' })
  pid!: number;

  @Field(() => String, { description: 'The version of its build.' })
  version!: string;

  @Field(() => String, { description: 'The id of its server secret (never the secret itself).' })
  secretId!: string;

  @Field(() => Date, { description: 'When it started, by its own clock.' })
  startedAt!: Date;

  @Field(() => Date, { description: "When it last recorded itself, by the database's clock (on SQLite, the machine's)." })
  lastSeenAt!: Date;

  @Field(() => Float, { description: "Its clock less the database's then, in milliseconds: positive when ahead." })
  clockOffsetMs!: number;

  @Field(() => Boolean, { description: 'Heard from within the last 90 seconds (it records itself every 30).' })
  live!: boolean;

  @Field(() => Boolean, { description: 'The instance that answered this query.' })
  current!: boolean;
}

@ObjectType('JobRun', { simpleResolvers: true, description: "A periodic job's last recorded run, on whichever instance ran it." })
export class JobRunNode {
  @Field(() => String)
  job!: string;

  @Field(() => Int, { description: 'How often it runs, in milliseconds.' })
  intervalMs!: number;

  @Field(() => ID, { description: 'The instance that ran it.' })
  instanceId!: string;

  @Field(() => Date)
  startedAt!: Date;

  @Field(() => Date)
  finishedAt!: Date;

  @Field(() => String, { description: '`OK` or `FAILED`.' })
  outcome!: string;

  @Field(() => String, { nullable: true, description: 'What it did (counts), or why it failed.' })
  detail!: string | null;

  @Field(() => Date, { nullable: true, description: 'When it last ended well.' })
  lastSucceededAt!: Date | null;
}

/** How a stored secret relates to this server's secrets. */
export enum SecretStanding {
  CURRENT = 'CURRENT',
  PREVIOUS = 'PREVIOUS',
  UNKNOWN = 'UNKNOWN',
  UNMARKED = 'UNMARKED',
}

registerEnumType(SecretStanding, {
  name: 'SecretStanding',
  description: 'Under which server secret something is stored, as this server sees it.',
  valuesConfig: {
    CURRENT: { description: 'Under SECRET_KEY.' },
    PREVIOUS: { description: 'Under SECRET_KEY_PREVIOUS: stored anew under SECRET_KEY when first used.' },
    UNKNOWN: { description: 'Under a secret this server does not have: no longer recognized.' },
    UNMARKED: {
      description:
        "Stored before digests and seals carried their secret's id: under SECRET_KEY or SECRET_KEY_PREVIOUS, stored anew when first used.",
    },
  },
});

/** What is stored under one secret. */
export interface SecretUse {
  secretId: string | null;
  standing: SecretStanding;
  licenseKeys: number;
  apiTokens: number;
  signingKeys: number;
}

@ObjectType('SecretUse', { simpleResolvers: true, description: 'How many secrets are stored under one server secret.' })
export class SecretUseNode implements SecretUse {
  @Field(() => String, { nullable: true, description: "The secret's id; null for what was stored before ids were kept." })
  secretId!: string | null;

  @Field(() => SecretStanding)
  standing!: SecretStanding;

  @Field(() => Int, { description: 'License keys whose digest was made under it.' })
  licenseKeys!: number;

  @Field(() => Int, { description: 'API tokens, not revoked, whose digest was made under it.' })
  apiTokens!: number;

  @Field(() => Int, { description: 'Certificate signing keys sealed under it.' })
  signingKeys!: number;
}

@ObjectType({ simpleResolvers: true, description: 'What the server found when it checked itself, its database and its neighbours.' })
export class Diagnostics {
  @Field(() => DiagnosticStatus, { description: 'The worst status of the checks.' })
  status!: DiagnosticStatus;

  @Field(() => Date)
  checkedAt!: Date;

  @Field(() => [DiagnosticCheck])
  checks!: CheckResult[];

  @Field(() => [ServerInstanceNode], { description: 'The instances recorded in the database, oldest first.' })
  instances!: ServerInstanceNode[];

  @Field(() => [JobRunNode], { description: "Each periodic job's last recorded run." })
  jobs!: JobRunNode[];

  @Field(() => [SecretUseNode], { description: 'What is stored under each server secret.' })
  secrets!: SecretUse[];
}
