import type express from 'express';
import type { Logger } from '../logger';
import type { SigningKeys } from '../modules/certificate/signing-keys';

/** Where the public keys that verify license certificates are published. */
export const JWKS_PATH = '/.well-known/jwks.json';
/** Clients may keep the key set this long: a rotated key signs only after it is published (it is, at once). */
const MAX_AGE_S = 300;

/** The JWKS: the keys that sign, and the retired ones until the last certificate they signed has expired. */
export function mountJwks(app: express.Express, keys: SigningKeys, logger: Logger): void {
  app.get(JWKS_PATH, (_req, res) => {
    keys.jwks().then(
      (jwks) => {
        res.setHeader('cache-control', `public, max-age=${MAX_AGE_S}`);
        res.type('application/jwk-set+json').send(JSON.stringify(jwks));
      },
      (error: unknown) => {
        logger.error({ err: error }, 'the JWKS could not be read');
        res
          .status(503)
          .setHeader('retry-after', '5')
          .type('application/json')
          .send(JSON.stringify({ error: 'SERVICE_UNAVAILABLE' }));
      },
    );
  });
}
