/** Told on every instance once a token's revocation has committed: what was authorized with it stops at once. */
export interface TokenRevoked {
  tokenId: string;
}

export function reviveTokenRevoked(event: TokenRevoked): TokenRevoked {
  return { tokenId: String(event.tokenId) };
}
