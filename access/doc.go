// Package access decides who may see which customer data, for what purpose:
// for each protected field that is about to be revealed, searched, exported,
// tokenized, detokenized, erased or whose keys are administered, a Checker
// answers Allow, Mask or Deny, with the reason and the rule behind it.
//
// access is a leaf package: it imports no other piiguard package. Package pii
// calls a Checker when a record is opened; a host application can call one
// itself, wrap one, or replace the default with its own.
//
// # Concepts
//
// A [Principal] is who asks (an employee or a service): an ID, roles, a
// tenant, attributes, and how and when they authenticated. A [Purpose] is
// why (support, billing, fraud, …). Both travel in the context: the host
// application's authentication puts them there with [WithPrincipal] and
// [WithPurpose], or with [Middleware] for net/http. An emergency access
// states its reason with [WithBreakGlass]. [NewRequest] assembles a
// [Request] from the context, an [Action] and a [Resource] (record type,
// field path, kind, class, owner, subject, tenant — names and IDs, never
// values). A [Checker] turns a Request into a [Decision].
//
// [Policy] is the default Checker: rules loaded from YAML or JSON
// ([ParsePolicyYAML], [ParsePolicyJSON], [LoadPolicy], [LoadPolicyFile]) or
// built in Go ([NewPolicy]). Package access/cedaraccess is a Checker over
// Cedar policies with the same semantics. [Memo] wraps any Checker to decide
// each distinct question once per operation. [Prepare] readies a Checker
// for the many questions of one operation that differ only in their
// resource (the fields of the records one call opens): for a Policy the
// work that depends on the principal is done once. A Checker that knows
// which per-record parts of a resource it reads says so with
// [RecordInputReporter], so that callers share its decisions across
// records. [InsecureAllowAll] turns access control off, deliberately.
//
// # Policy grammar
//
// A policy file declares its version (1), its roles (every role a rule names
// must be declared), optionally its own purposes (in addition to the
// built-in ones), and a list of rules:
//
//	version: 1
//	roles: [sales_rep, support, oncall]
//	purposes: [sales]                # optional, beyond the built-in purposes
//	rules:
//	  - name: sales-rep-own-customers  # required, unique, [A-Za-z0-9_.:-]
//	    description: free text         # optional, ignored
//	    effect: allow                  # required: allow | mask | deny
//	    roles: [sales_rep]             # required; "*" = every principal
//	    actions: [reveal, search]      # required; "*" = every action
//	    record_types: [Customer]       # resource selectors, optional:
//	    fields: [Email, "Address.*"]   #   omitted = any; "*" = any;
//	    kinds: [email, phone]          #   "prefix*" = prefix
//	    classes: [contact]
//	    owner_only: true               # conditions, optional
//	    same_tenant: true
//	    purposes: [sales, support]
//	    mfa_within: 15m                # Go duration, > 0
//	    attributes: {region: eu}       # principal attributes, exact match
//	  - name: oncall-break-glass
//	    effect: allow
//	    break_glass: true              # allow rules only
//	    roles: [oncall]
//	    actions: [reveal]
//
// The JSON form has the same members:
//
//	{"version": 1, "roles": ["support"], "rules": [
//	  {"name": "support-contact-mfa", "effect": "allow",
//	   "roles": ["support"], "actions": ["reveal"], "classes": ["contact"],
//	   "purposes": ["support"], "mfa_within": "15m"}]}
//
// The actions are reveal, search, export, tokenize, detokenize, erase and
// key-admin ("*" includes key-admin). A rule applies to a request when the
// principal has one of its roles, the action is one of its actions and every
// selector that is set matches the resource; then its conditions must all
// hold:
//
//   - owner_only: the principal's ID equals the record's owner ID (both
//     non-empty): a sales rep sees only their own customers.
//   - same_tenant: the principal's tenant equals the record's (both
//     non-empty).
//   - purposes: the request's purpose is one of them.
//   - mfa_within: the principal authenticated with an MFA method (mfa, otp,
//     webauthn) no longer ago than this, by the policy's clock
//     ([PolicyOptions.Now]); an authentication time more than a minute in
//     the future does not count. Not allowed on deny rules.
//   - attributes: each named principal attribute has exactly that value.
//   - break_glass: the request states a reason ([Request.BreakGlass]).
//
// A mask rule applies to reveal and export only (naming another action is an
// error; "*" means those two). Unknown keys, unknown roles, actions or
// purposes, duplicate keys or rule names, and values of the wrong type are
// errors that name the rule and the line.
//
// # Precedence
//
// Every rule that applies is considered; the outcome does not depend on
// rule order, only the rule named in the decision does:
//
//  1. a deny rule that applies denies (first deny rule in order is named);
//  2. else an allow rule allows (the first one in order);
//  3. else a break-glass allow rule allows with Alert set;
//  4. else a mask rule masks;
//  5. else the request is denied (default deny). The reason then names the
//     first allow or mask rule that matched the request but whose
//     condition failed ("requires MFA within 15m0s"), to help the caller
//     ask for step-up authentication.
//
// So an explicit deny beats break-glass, and a break-glass reason is never
// needed, nor reported, when an ordinary rule already allows.
//
// # Security considerations
//
//   - Fail closed: the zero Decision is Deny; a request without a principal
//     (empty ID) is denied with ErrNoPrincipal and an unknown action with
//     ErrUnknownAction; any error from a Checker must be treated as Deny.
//   - piiguard never authenticates: Principal and its Authentication come
//     from the host application, which must fill them from verified
//     credentials only. The Middleware answers 401 without details when the
//     application's Authenticator fails.
//   - Decisions and errors carry rule, action, role and condition names
//     only: never a principal, owner or subject ID, a tenant or the
//     break-glass text (which is free text and may hold personal data).
//     Tests scan them for such values.
//   - Break-glass decisions set Alert; the caller must report them (audit
//     event, page) at once. The reason text belongs in the audit trail.
//   - Mask means "show a masked form"; for actions with no masked form the
//     policy never answers Mask.
//   - A Memo holds decisions for one operation only, and a Prepared judges
//     MFA freshness once, when prepared: kept longer, either outlives an
//     MFA window and any policy change.
//   - Prepare does its work ahead only for a *Policy itself; a type that
//     embeds a *Policy to change its Check is asked through that Check.
//     RecordInputs, though, is promoted by embedding: such a type whose
//     Check reads more of the record than the Policy must declare its own.
//   - Policy files are configuration, read at start-up: the loaders bound
//     their size (MaxPolicySize) and nesting and refuse YAML anchors,
//     aliases and merge keys. They are fuzzed.
//
// # Errors
//
// Sentinel errors, for errors.Is: ErrNoPrincipal, ErrUnknownAction,
// ErrUnknownRole, ErrUnknownPurpose, ErrInvalidPolicy, ErrDenied (from
// [Decision.Err]). Policy errors are *PolicyError values (errors.As) with
// the rule and line at fault; they wrap ErrInvalidPolicy and, where one
// fits, ErrUnknownAction, ErrUnknownRole or ErrUnknownPurpose. Every message
// starts with "access: ".
package access
