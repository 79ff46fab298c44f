/**
 * The operations the client sends, as text (no GraphQL library needed); `npm run codegen` types them from the schema
 * into `generated.ts`.
 */
export const OPERATIONS = {
  validate: /* GraphQL */ `
query ClientValidate($key: String!, $fingerprint: String, $user: String, $feature: String, $clientTime: DateTimeISO) {
  validateLicense(key: $key, fingerprint: $fingerprint, user: $user, feature: $feature, clientTime: $clientTime) {
    valid
    code
    checks {
      check
      outcome
      code
      detail
    }
  }
}
`,
  checkout: /* GraphQL */ `
mutation ClientCheckout($key: String!, $fingerprint: String!, $user: String, $clientTime: DateTimeISO) {
  checkoutSeat(key: $key, fingerprint: $fingerprint, user: $user, clientTime: $clientTime, certificate: true) {
    outcome
    detail
    lease {
      id
      expiresAt
    }
    certificate {
      certificate
    }
  }
}
`,
  heartbeat: /* GraphQL */ `
mutation ClientHeartbeat($key: String!, $leaseId: ID!, $clientTime: DateTimeISO) {
  heartbeatSeat(key: $key, leaseId: $leaseId, clientTime: $clientTime) {
    outcome
    lease {
      id
      expiresAt
    }
  }
}
`,
  checkin: /* GraphQL */ `
mutation ClientCheckin($key: String!, $leaseId: ID!) {
  checkinSeat(key: $key, leaseId: $leaseId) {
    outcome
  }
}
`,
  certificate: /* GraphQL */ `
mutation ClientCertificate($key: String!, $fingerprint: String, $ttlSeconds: Int) {
  issueLicenseCertificate(key: $key, fingerprint: $fingerprint, ttlSeconds: $ttlSeconds) {
    certificate
    expiresAt
  }
}
`,
  borrow: /* GraphQL */ `
mutation ClientBorrow($key: String!, $fingerprint: String!, $until: DateTimeISO!) {
  borrowSeat(key: $key, fingerprint: $fingerprint, until: $until) {
    checkout {
      outcome
      detail
      lease {
        id
        expiresAt
        borrowedUntil
      }
    }
    certificate {
      certificate
      expiresAt
    }
  }
}
`,
  alerts: /* GraphQL */ `
subscription ClientAlerts($after: ID, $filter: AlertFilter) {
  alertRaised(after: $after, filter: $filter) {
    id
    organizationId
    licenseId
    kind
    severity
    metric
    threshold
    value
    limit
    message
    raisedAt
    recommendationId
  }
}
`,
} as const;
