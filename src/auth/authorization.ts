import type { GraphQLResolveInfo } from 'graphql';
import { API_KEY_SCOPES, type ApiKeyScope } from '../config/config.js';
import { authError } from './errors.js';
import type { AuthErrorCode, AuthResult, Principal } from './principal.js';

/** What an operation needs: a scope, and for operations open to client tokens, the charge concerned. */
export interface Requirement {
  scope: ApiKeyScope;
  /** Set → a client token for exactly this charge is also accepted. Unset → service keys only. */
  chargeId?: string;
}

export type AuthDecision = { allowed: true } | { allowed: false; code: AuthErrorCode; message: string };

export interface OperationRule {
  scope: ApiKeyScope;
  /** The argument holding the charge id, for operations a client token may call on its own charge. */
  clientTokenChargeIdArg?: string;
}

/**
 * Who may call what, by `<root type>.<field>`. The one source of truth: the authChecker reads it, the
 * tests check every row against every kind of credential, and docs/security.md shows it.
 */
export const OPERATION_RULES = {
  'Query.charge': { scope: 'charges:read', clientTokenChargeIdArg: 'id' },
  'Query.charges': { scope: 'charges:read' },
  'Mutation.createTrueMoneyCharge': { scope: 'charges:create' },
  'Mutation.refundCharge': { scope: 'charges:refund' },
  'Mutation.voidCharge': { scope: 'charges:void' },
  'Mutation.simulateChargeOutcome': { scope: 'test:simulate' },
  'Subscription.chargeStatus': { scope: 'charges:read', clientTokenChargeIdArg: 'chargeId' },
} as const satisfies Record<string, OperationRule>;

export type OperationName = keyof typeof OPERATION_RULES;

const isScope = (value: string): value is ApiKeyScope =>
  (API_KEY_SCOPES as readonly string[]).includes(value);

/** The requirement of one operation call, or undefined for a field that is not in the table. */
export function requirementFor(
  operation: string,
  args: Readonly<Record<string, unknown>> = {},
): Requirement | undefined {
  if (!Object.hasOwn(OPERATION_RULES, operation)) return undefined;
  const rule: OperationRule = OPERATION_RULES[operation as OperationName];
  if (rule.clientTokenChargeIdArg === undefined) return { scope: rule.scope };
  const chargeId = args[rule.clientTokenChargeIdArg];
  return typeof chargeId === 'string' ? { scope: rule.scope, chargeId } : { scope: rule.scope };
}

const deny = (code: AuthErrorCode, message: string): AuthDecision => ({ allowed: false, code, message });

/**
 * The authorization decision. UNAUTHENTICATED: present a (valid) credential; FORBIDDEN: this credential
 * may not do that. `now` matters for WebSocket connections authenticated long ago with a client token.
 */
export function authorize(
  principal: Principal,
  requirement: Requirement,
  now: Date = new Date(),
): AuthDecision {
  switch (principal.kind) {
    case 'anonymous-test-mode':
      return { allowed: true };
    case 'anonymous':
      return deny('UNAUTHENTICATED', 'Authentication required: send "Authorization: Bearer <credential>".');
    case 'service':
      return principal.scopes.includes(requirement.scope)
        ? { allowed: true }
        : deny('FORBIDDEN', `API key "${principal.name}" lacks the scope ${requirement.scope}.`);
    case 'client':
      if (principal.expiresAt.getTime() <= now.getTime())
        return deny('UNAUTHENTICATED', 'Client token expired.');
      if (requirement.chargeId === undefined) {
        return deny('FORBIDDEN', 'A client token may only read its own charge and subscribe to its status.');
      }
      return requirement.chargeId === principal.chargeId
        ? { allowed: true }
        : deny('FORBIDDEN', 'This client token is for another charge.');
  }
}

/** `authenticate`'s result straight to a decision: a refused credential is UNAUTHENTICATED for anything. */
export function authorizeResult(auth: AuthResult, requirement: Requirement, now?: Date): AuthDecision {
  return auth.ok ? authorize(auth.principal, requirement, now) : deny('UNAUTHENTICATED', auth.message);
}

/** Decision for an operation of {@link OPERATION_RULES}; an unknown operation is refused (fail closed). */
export function authorizeOperation(
  principal: Principal,
  operation: string,
  args?: Readonly<Record<string, unknown>>,
  now?: Date,
): AuthDecision {
  const requirement = requirementFor(operation, args);
  if (requirement === undefined) return deny('FORBIDDEN', `No access rule for ${operation}.`);
  return authorize(principal, requirement, now);
}

/** Thrown by the authChecker on a misconfigured `@Authorized(...)`: a programming error, masked as internal. */
export class AuthRuleError extends Error {
  override name = 'AuthRuleError';
}

export interface ResolverDataLike<TContext> {
  context: TContext;
  args: Record<string, unknown>;
  info: Pick<GraphQLResolveInfo, 'parentType' | 'fieldName'>;
}

/**
 * For type-graphql's `buildSchema({ authChecker })` (use with `@Authorized('<scope>')` on the fields of
 * the table). Returns true when allowed, and throws `toError(decision)` otherwise, so that the client
 * gets UNAUTHENTICATED or FORBIDDEN rather than type-graphql's generic errors. Fields in the table are
 * judged by the table (their `@Authorized` scope must agree); other `@Authorized('<scope>')` fields need
 * that scope from a service key. An arrow function on purpose: type-graphql treats functions with a
 * prototype as classes.
 */
export function createAuthChecker<TContext extends object>(options: {
  principalOf: (context: TContext) => Principal;
  /**
   * The error of a refused field.
   * @default {@link authError} without an HTTP status (one refused field must not fail the others)
   */
  toError?: (decision: Extract<AuthDecision, { allowed: false }>) => Error;
  now?: () => Date;
}): (resolverData: ResolverDataLike<TContext>, roles: string[]) => boolean {
  const now = options.now ?? (() => new Date());
  const toError = options.toError ?? ((decision) => authError(decision, { httpStatus: false }));
  return ({ context, args, info }, roles) => {
    const operation = `${info.parentType.name}.${info.fieldName}`;
    let requirement = requirementFor(operation, args);
    if (requirement !== undefined) {
      if (roles.length > 0 && !roles.includes(requirement.scope)) {
        throw new AuthRuleError(
          `@Authorized(${roles.join(', ')}) on ${operation} disagrees with OPERATION_RULES`,
        );
      }
    } else {
      const [scope, ...others] = roles;
      if (scope === undefined || others.length > 0 || !isScope(scope)) {
        throw new AuthRuleError(
          `${operation}: @Authorized needs exactly one scope of ${API_KEY_SCOPES.join(', ')}`,
        );
      }
      requirement = { scope };
    }
    const decision = authorize(options.principalOf(context), requirement, now());
    if (!decision.allowed) throw toError(decision);
    return true;
  };
}

/**
 * For sharing one execution of a subscription event among its subscribers (src/server's
 * shared-subscription-events): the group of a subscriber whom the rules treat exactly like every other
 * member, or undefined when the rules refuse it now (it then executes alone, and the authChecker gives
 * it today's error). Decided per subscriber and per event, with the same rules and clock as
 * {@link createAuthChecker}: a client token that expired while subscribed leaves its group at once.
 * Expiry is not part of the group: it is checked here, at every event.
 */
export function createAuthGroupOf<TContext extends object>(options: {
  principalOf: (context: TContext) => Principal;
  now?: () => Date;
}): (context: TContext, operation: string, args: Readonly<Record<string, unknown>>) => string | undefined {
  const now = options.now ?? (() => new Date());
  return (context, operation, args) => {
    const principal = options.principalOf(context);
    if (!authorizeOperation(principal, operation, args, now()).allowed) return undefined;
    switch (principal.kind) {
      case 'service':
        return `service:${principal.name}:${principal.scopes.join(',')}`;
      case 'client':
        return `client:${principal.chargeId}`;
      default:
        return principal.kind;
    }
  };
}
