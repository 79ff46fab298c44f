import type { JSONWebKeySet } from 'jose';
import type {
  ClientBorrowMutation,
  ClientBorrowMutationVariables,
  ClientCertificateMutation,
  ClientCertificateMutationVariables,
  ClientCheckinMutation,
  ClientCheckinMutationVariables,
  ClientCheckoutMutation,
  ClientCheckoutMutationVariables,
  ClientHeartbeatMutation,
  ClientHeartbeatMutationVariables,
  ClientValidateQuery,
  ClientValidateQueryVariables,
} from './generated';
import { OPERATIONS } from './operations';
import { type ClientStore, MemoryStore } from './store';
import { type Check, verifyLicenseCertificate } from './verify';

export interface LicenseClientOptions {
  /** The server's GraphQL endpoint: `https://licenses.example.com/graphql`. */
  url: string;
  key: string;
  /** This machine. */
  fingerprint: string;
  /** Where the certificate and the JWKS are kept for offline use (memory by default). */
  store?: ClientStore;
  /** Time between heartbeats; by default a third of the lease's time to live, so that two may fail before it lapses. */
  heartbeatMs?: number;
  /** Told each change of the session's standing: online, or offline and until when. */
  onStatus?: (status: ClientStatus) => void;
  fetch?: typeof fetch;
}

/** Where the session stands: online, or running on its certificate until `offlineUntil`. */
export interface ClientStatus {
  online: boolean;
  leaseId: string | null;
  /** Offline: the application may keep running until then (the certificate's end); null online or without one. */
  offlineUntil: Date | null;
  /** Why the server could not be reached, when it could not. */
  error: string | null;
}

export interface ClientVerdict {
  valid: boolean;
  code: string;
  checks: Check[];
  /** Decided from the certificate, the server being unreachable. */
  offline: boolean;
  offlineUntil: Date | null;
}

/** The server could not be reached, or could not answer now: the client falls back to its certificate. */
export class ServerUnreachable extends Error {}

/** The server answered with an error (its `code`): the call was refused, not lost. */
export class LicenseServerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const CERTIFICATE = 'certificate';
const JWKS = 'jwks';
const DEFAULT_TTL_MS = 60_000;

/**
 * What an application embeds to use its license: `validate` (online, else from its certificate), `checkout` of a
 * concurrent seat kept alive by heartbeats and checked in by `close`, and `borrow` for offline use. When the server
 * cannot be reached, the session goes on on the last certificate and says until when; when it is back, heartbeats
 * resume on the same lease (or take a new one if it lapsed meanwhile).
 */
export class LicenseClient {
  private readonly store: ClientStore;
  private readonly fetch: typeof fetch;
  private readonly jwksUrl: string;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private state: ClientStatus = { online: true, leaseId: null, offlineUntil: null, error: null };

  constructor(private readonly options: LicenseClientOptions) {
    this.store = options.store ?? new MemoryStore();
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.jwksUrl = new URL('/.well-known/jwks.json', options.url).toString();
  }

  status(): ClientStatus {
    return { ...this.state };
  }

  /** The license's checks: the server's, else (unreachable) those of the certificate kept, with until when. */
  async validate(args: { feature?: string; user?: string } = {}): Promise<ClientVerdict> {
    try {
      const { validateLicense } = await this.call<ClientValidateQuery, ClientValidateQueryVariables>('validate', {
        key: this.options.key,
        fingerprint: this.options.fingerprint,
        feature: args.feature ?? null,
        user: args.user ?? null,
        clientTime: new Date().toISOString(),
      });
      this.update({ online: true, error: null, offlineUntil: null });
      return { ...validateLicense, offline: false, offlineUntil: null };
    } catch (error) {
      if (!(error instanceof ServerUnreachable)) throw error;
      const verdict = await this.offline(args.feature ?? null);
      this.update({ online: false, error: error.message, offlineUntil: verdict.offlineUntil });
      return verdict;
    }
  }

  /** Checks a seat out and keeps it with heartbeats; fetches a certificate and the JWKS to fall back on. */
  async checkout(): Promise<{ leaseId: string; expiresAt: Date }> {
    const lease = await this.takeSeat();
    const expiresAt = new Date(lease.expiresAt);
    this.schedule(this.options.heartbeatMs ?? Math.max(1_000, (expiresAt.getTime() - Date.now() || DEFAULT_TTL_MS) / 3));
    return { leaseId: lease.id, expiresAt };
  }

  /** Checks a seat out, with the certificate bound to it kept for offline use; a refusal is a LicenseServerError. */
  private async takeSeat(): Promise<{ id: string; expiresAt: string }> {
    const { checkoutSeat } = await this.call<ClientCheckoutMutation, ClientCheckoutMutationVariables>('checkout', {
      key: this.options.key,
      fingerprint: this.options.fingerprint,
      clientTime: new Date().toISOString(),
    });
    if (!checkoutSeat.lease) throw new LicenseServerError(checkoutSeat.outcome, checkoutSeat.detail);
    await this.keep(checkoutSeat.certificate?.certificate ?? null);
    this.update({ online: true, leaseId: checkoutSeat.lease.id, offlineUntil: null, error: null });
    return checkoutSeat.lease;
  }

  /** Borrows this machine's seat until `until`, with the certificate to run offline until then. */
  async borrow(until: Date): Promise<{ leaseId: string; until: Date }> {
    const { borrowSeat } = await this.call<ClientBorrowMutation, ClientBorrowMutationVariables>('borrow', {
      key: this.options.key,
      fingerprint: this.options.fingerprint,
      until: until.toISOString(),
    });
    const lease = borrowSeat.checkout.lease;
    if (!lease?.borrowedUntil || !borrowSeat.certificate)
      throw new LicenseServerError(borrowSeat.checkout.outcome, borrowSeat.checkout.detail);
    await this.keep(borrowSeat.certificate.certificate);
    this.update({ leaseId: lease.id });
    return { leaseId: lease.id, until: new Date(lease.borrowedUntil) };
  }

  /** Stops the heartbeats and checks the seat in (on shutdown). A server away by then lets the lease lapse. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const leaseId = this.state.leaseId;
    if (!leaseId) return;
    try {
      await this.call<ClientCheckinMutation, ClientCheckinMutationVariables>('checkin', { key: this.options.key, leaseId });
    } catch (error) {
      if (!(error instanceof ServerUnreachable)) throw error;
    }
    this.update({ leaseId: null });
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.heartbeat().finally(() => this.schedule(ms));
    }, ms);
  }

  private async heartbeat(): Promise<void> {
    const leaseId = this.state.leaseId;
    if (!leaseId) return;
    try {
      const { heartbeatSeat } = await this.call<ClientHeartbeatMutation, ClientHeartbeatMutationVariables>('heartbeat', {
        key: this.options.key,
        leaseId,
        clientTime: new Date().toISOString(),
      });
      if (heartbeatSeat.outcome === 'EXTENDED') {
        this.update({ online: true, offlineUntil: null, error: null });
        return;
      }
      // The lease lapsed while the server was away: take a seat again (refused: the status says why).
      this.update({ online: true, leaseId: null, offlineUntil: null, error: null });
      await this.takeSeat();
    } catch (error) {
      if (!(error instanceof ServerUnreachable)) {
        this.update({ error: error instanceof Error ? error.message : String(error) });
        return;
      }
      const verdict = await this.offline(null);
      this.update({ online: false, error: error.message, offlineUntil: verdict.offlineUntil });
    }
  }

  /** The certificate's verdict now; `offlineUntil` its end when it holds. */
  private async offline(feature: string | null): Promise<ClientVerdict> {
    const [certificate, jwks] = await Promise.all([this.store.get(CERTIFICATE), this.store.get(JWKS)]);
    if (!certificate || !jwks) {
      return { valid: false, code: 'NO_CERTIFICATE', checks: [], offline: true, offlineUntil: null };
    }
    const verdict = await verifyLicenseCertificate(certificate, {
      jwks: JSON.parse(jwks) as JSONWebKeySet,
      fingerprint: this.options.fingerprint,
      feature,
    });
    return {
      valid: verdict.valid,
      code: verdict.code,
      checks: verdict.checks,
      offline: true,
      offlineUntil: verdict.valid ? verdict.expiresAt : null,
    };
  }

  /** Keeps a certificate (or fetches one bound to this machine) and the JWKS to verify it with, for offline use. */
  private async keep(certificate: string | null): Promise<void> {
    const kept =
      certificate ??
      (
        await this.call<ClientCertificateMutation, ClientCertificateMutationVariables>('certificate', {
          key: this.options.key,
          fingerprint: this.options.fingerprint,
        })
      ).issueLicenseCertificate.certificate;
    await this.store.set(CERTIFICATE, kept);
    await this.store.set(JWKS, JSON.stringify(await this.jwks()));
  }

  private async jwks(): Promise<JSONWebKeySet> {
    const response = await this.fetch(this.jwksUrl).catch((error: unknown) => {
      throw new ServerUnreachable(String(error));
    });
    if (!response.ok) throw new ServerUnreachable(`the JWKS answered ${response.status}`);
    return (await response.json()) as JSONWebKeySet;
  }

  private update(change: Partial<ClientStatus>): void {
    const before = this.state;
    this.state = { ...before, ...change };
    const changed =
      before.online !== this.state.online ||
      before.leaseId !== this.state.leaseId ||
      before.offlineUntil?.getTime() !== this.state.offlineUntil?.getTime();
    if (changed) this.options.onStatus?.(this.status());
  }

  /** One operation over HTTP: unreachable (network, 502–504, SERVICE_UNAVAILABLE) apart from refused (any other error). */
  private async call<TData, TVariables>(operation: keyof typeof OPERATIONS, variables: TVariables): Promise<TData> {
    let response: Response;
    try {
      response = await this.fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: OPERATIONS[operation], variables }),
      });
    } catch (error) {
      throw new ServerUnreachable(error instanceof Error ? error.message : String(error));
    }
    if (response.status >= 502 && response.status <= 504) throw new ServerUnreachable(`the server answered ${response.status}`);
    const body = (await response.json()) as { data?: TData; errors?: { message: string; extensions?: { code?: string } }[] };
    const error = body.errors?.[0];
    if (error?.extensions?.code === 'SERVICE_UNAVAILABLE') throw new ServerUnreachable(error.message);
    if (error || !body.data) throw new LicenseServerError(error?.extensions?.code ?? 'INTERNAL_SERVER_ERROR', error?.message ?? 'no data');
    return body.data;
  }
}
