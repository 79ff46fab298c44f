import type { WebSocket } from 'ws';
import type { TokenRevoked } from '../modules/token/token-revocation';
import type { EventChannel } from '../common/event-channel';
import type { Logger } from '../logger';

/** Close code 4403 of graphql-ws: the socket's credentials are no longer good. */
export const CLOSE_FORBIDDEN = 4403;
const REVOKED_REASON = 'token revoked';

/** How often the tokens of open sockets are checked against the database, should a revocation notice be lost. */
const CHECK_MS = 500;

export interface RevokedTokens {
  /** Which of these tokens are revoked now. */
  revokedAmong(tokenIds: readonly string[]): Promise<string[]>;
}

/**
 * Responsible for the rights of open sockets: each socket is tracked under the tokens it used, and a token revoked
 * closes them with 4403, which ends their subscriptions. The revocation is heard at once through the event bus
 * from whichever instance made it, and, should that notice be lost (Redis away), found within half a second by looking
 * at the tokens of the open sockets in the database. Operations are also authorized again one by one (see
 * websocket.ts), so a socket never acts on a revoked token in between.
 */
export class SocketGuard {
  private readonly sockets = new Map<string, Set<WebSocket>>();
  private readonly timer: NodeJS.Timeout;
  private checking = false;
  private readonly stopListening: () => void;

  constructor(
    revocations: EventChannel<TokenRevoked>,
    private readonly tokens: RevokedTokens,
    private readonly logger: Logger,
  ) {
    this.stopListening = revocations.listen(({ tokenId }) => this.close(tokenId));
    this.timer = setInterval(() => void this.check(), CHECK_MS);
    this.timer.unref();
  }

  /** Tracks a socket under a token it authenticated with, until it closes. */
  track(tokenId: string, socket: WebSocket): void {
    let sockets = this.sockets.get(tokenId);
    if (!sockets) {
      sockets = new Set();
      this.sockets.set(tokenId, sockets);
    }
    if (sockets.has(socket)) return;
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0 && this.sockets.get(tokenId) === sockets) this.sockets.delete(tokenId);
    });
  }

  dispose(): void {
    clearInterval(this.timer);
    this.stopListening();
  }

  private close(tokenId: string): void {
    const sockets = this.sockets.get(tokenId);
    if (!sockets) return;
    this.sockets.delete(tokenId);
    this.logger.info({ tokenId, sockets: sockets.size }, 'closing the sockets of a revoked token');
    for (const socket of sockets) socket.close(CLOSE_FORBIDDEN, REVOKED_REASON);
  }

  private async check(): Promise<void> {
    if (this.checking || this.sockets.size === 0) return;
    this.checking = true;
    try {
      for (const tokenId of await this.tokens.revokedAmong([...this.sockets.keys()])) this.close(tokenId);
    } catch {
      // The database is away: the next look tries again, and each operation is authorized on its own meanwhile.
    } finally {
      this.checking = false;
    }
  }
}
