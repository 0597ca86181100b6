import { PROVIDER_NAMING } from "../../../scim/provider-mappings";
import { PROVIDER_IDS, PROVIDERS, type Provider } from "../../../scim/providers";
import { type Chrome, CopyField, Page, type SessionFrame } from "./layout";

export type GuideIdp = Provider;

/**
 * Step-by-step setup for each provider of the registry, with the integration's SCIM base URL filled in and where its
 * token goes, in the words its admin console shows (sources cited per provider), and the attribute mappings it uses
 * by default (provider-mappings.ts). `scim` is the generic guide for any other SCIM 2.0 client.
 */
export function GuidePage({
  chrome,
  frame,
  idp,
  scimBaseUrl,
}: {
  chrome: Chrome;
  frame: SessionFrame;
  idp: GuideIdp;
  scimBaseUrl: string;
}) {
  const Steps = STEPS[idp];
  return (
    <Page title="Setup guide" chrome={chrome} frame={frame} tab="guide">
      <h1>Setup guide</h1>
      <nav class="tabs" aria-label="Identity provider">
        {PROVIDER_IDS.map((id) => (
          <a href={frame.paths.guide(id)} aria-current={id === idp ? "page" : undefined}>
            {id === "scim" ? "Other SCIM 2.0" : PROVIDERS[id].name}
          </a>
        ))}
      </nav>
      <div class="card">
        <CopyField id="scim-url" label="SCIM base URL" value={scimBaseUrl} />
        <Steps />
        {idp !== "entra" && <Mappings idp={idp} />}
      </div>
    </Page>
  );
}

/** The provider's default mappings in its own attribute names; where it documents none, the SCIM names to map. */
function Mappings({ idp }: { idp: Exclude<Provider, "entra"> }) {
  const { short, mappings } = PROVIDER_NAMING[idp];
  if (mappings.length === 0) {
    return (
      <>
        <h3>User attribute mappings</h3>
        <p>
          Map the directory's username to <code>userName</code> (the matching attribute), and its names and email to{" "}
          <code>name.givenName</code>, <code>name.familyName</code>, <code>displayName</code> and{" "}
          <code>emails[type eq "work"].value</code>; <code>active</code> deactivates people who leave. The enterprise
          extension (<code>department</code>, <code>manager</code> and the rest) is accepted too.
        </p>
      </>
    );
  }
  return (
    <>
      <h3>User attribute mappings</h3>
      <table>
        <thead>
          <tr>
            <th scope="col">{short} attribute</th>
            <th scope="col">SCIM attribute</th>
            <th scope="col">Note</th>
          </tr>
        </thead>
        <tbody>
          {mappings.map(([source, target, note]) => (
            <tr>
              <td>
                <code>{source}</code>
              </td>
              <td>
                <code>{target}</code>
              </td>
              <td>{note}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function EntraSteps() {
  return (
    <>
      <h2>Microsoft Entra ID (Azure AD)</h2>
      <ol class="steps">
        <li>
          In the Microsoft Entra admin center, open{" "}
          <strong>Enterprise applications → New application → Create your own application</strong>, name it, and choose{" "}
          <strong>Integrate any other application you don't find in the gallery (Non-gallery)</strong>.
        </li>
        <li>
          In the new application, open <strong>Provisioning</strong> and set <strong>Provisioning Mode</strong> to{" "}
          <strong>Automatic</strong>.
        </li>
        <li>
          Under <strong>Admin Credentials</strong>, paste the SCIM base URL above into <strong>Tenant URL</strong> and
          the access token (shown once when you added the integration or regenerated it) into{" "}
          <strong>Secret Token</strong>.
        </li>
        <li>
          Press <strong>Test Connection</strong>, then <strong>Save</strong>.
        </li>
        <li>
          Under <strong>Settings → Scope</strong>, choose <strong>Sync only assigned users and groups</strong>, and
          assign the people and groups who should have access under <strong>Users and groups</strong>.
        </li>
        <li>
          Under <strong>Mappings</strong>, check the user attribute mappings below, then set{" "}
          <strong>Provisioning Status</strong> to <strong>On</strong> and save. Entra's first cycle starts within about
          40 minutes.
        </li>
      </ol>
      <h3>User attribute mappings</h3>
      <table>
        <thead>
          <tr>
            <th scope="col">Entra attribute</th>
            <th scope="col">SCIM attribute</th>
            <th scope="col">Note</th>
          </tr>
        </thead>
        <tbody>
          {PROVIDER_NAMING.entra.mappings.map(([source, target, note]) => (
            <tr>
              <td>
                <code>{source}</code>
              </td>
              <td>
                <code>{target}</code>
              </td>
              <td>{note}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">
        Other enterprise extension attributes (employeeNumber, costCenter and the rest) and custom extension attributes
        are accepted too.
      </p>
      <h3>Groups</h3>
      <p>
        Keep <strong>Provision Microsoft Entra ID Groups</strong> on, with Entra's default mappings:{" "}
        <code>displayName</code> (matching), <code>objectId → externalId</code> and <code>members</code>. Assigned
        groups arrive with their members.
      </p>
    </>
  );
}

function OktaSteps() {
  return (
    <>
      <h2>Okta</h2>
      <ol class="steps">
        <li>
          In the Okta Admin Console, open <strong>Applications → Create App Integration</strong>, choose{" "}
          <strong>SAML 2.0</strong> or <strong>OIDC</strong> as your sign-in requires, and finish the wizard.
        </li>
        <li>
          On the application's <strong>General</strong> tab, edit <strong>App Settings</strong> and select{" "}
          <strong>Enable SCIM provisioning</strong>.
        </li>
        <li>
          On the <strong>Provisioning</strong> tab, paste the SCIM base URL above into{" "}
          <strong>SCIM connector base URL</strong>, enter <code>userName</code> as the{" "}
          <strong>Unique identifier field for users</strong>, tick <strong>Push New Users</strong>,{" "}
          <strong>Push Profile Updates</strong> and <strong>Push Groups</strong>, and choose{" "}
          <strong>HTTP Header</strong> authentication with the access token as the bearer token.
        </li>
        <li>
          Press <strong>Test Connector Configuration</strong>, then <strong>Save</strong>.
        </li>
        <li>
          Under <strong>Provisioning → To App</strong>, enable <strong>Create Users</strong>,{" "}
          <strong>Update User Attributes</strong> and <strong>Deactivate Users</strong>.
        </li>
        <li>
          Assign people and groups on the <strong>Assignments</strong> tab; for groups, add them under{" "}
          <strong>Push Groups</strong>.
        </li>
      </ol>
    </>
  );
}

// OneLogin's console, as integrators' guides for the "SCIM Provisioner with SAML (SCIM v2 Enterprise)" connector
// describe it (OneLogin's own developer pages were not in the searched corpus): e.g.
// https://www.livingsecurity.com/migration/support/configuring-scim-for-onelogin,
// https://help.pigeonholelive.com/hc/en-us/articles/217588238-Setting-up-SCIM-on-OneLogin.
function OneLoginSteps() {
  return (
    <>
      <h2>OneLogin</h2>
      <ol class="steps">
        <li>
          In the OneLogin admin portal, open <strong>Applications → Add App</strong>, search for{" "}
          <strong>SCIM Provisioner with SAML (SCIM v2 Enterprise)</strong>, name it and <strong>Save</strong>.
        </li>
        <li>
          On the <strong>Configuration</strong> tab, paste the SCIM base URL above into <strong>SCIM Base URL</strong>{" "}
          and the access token into <strong>SCIM Bearer Token</strong>; under <strong>API Connection</strong>, press{" "}
          <strong>Enable</strong>, then <strong>Save</strong>.
        </li>
        <li>
          On the <strong>Parameters</strong> tab, set <strong>SCIM Username</strong> to the attribute that identifies
          people (usually <strong>Email</strong>).
        </li>
        <li>
          On the <strong>Provisioning</strong> tab, tick <strong>Enable provisioning</strong>, clear the admin approval
          boxes for <strong>Create</strong>, <strong>Update</strong> and <strong>Delete</strong> if changes should flow
          on their own, and choose <strong>Suspend</strong> for deleted users; <strong>Save</strong>.
        </li>
        <li>
          Give people access on the <strong>Access</strong> tab (roles) or from each user's{" "}
          <strong>Applications</strong> tab; <strong>Users → Provisioning</strong> shows what was sent.
        </li>
      </ol>
    </>
  );
}

// JumpCloud's own article on its custom SCIM connector
// (https://jumpcloud.com/support/provision-and-manage-users-and-groups-in-apps-using-custom-scim-identity-management-integration:
// SCIM 2.0, bearer token, a test user and group created and deleted by the test) and the Identity Management tab's
// fields as integrators' guides show them (e.g. https://boxyhq.com/docs/directory-sync/providers/jumpcloud).
function JumpCloudSteps() {
  return (
    <>
      <h2>JumpCloud</h2>
      <ol class="steps">
        <li>
          In the JumpCloud Admin Portal, open <strong>SSO Applications</strong>, choose your SAML application (or add a{" "}
          <strong>Custom Application</strong>), and open its <strong>Identity Management</strong> tab.
        </li>
        <li>
          Choose <strong>SCIM 2.0</strong> as the <strong>SCIM Version</strong>, paste the SCIM base URL above into{" "}
          <strong>Base URL</strong> and the access token into <strong>Token Key</strong>, and enter the email of one of
          your users as <strong>Test User Email</strong>.
        </li>
        <li>
          To sync groups too, select{" "}
          <strong>Enable management of User Groups and Group Membership in this application</strong>.
        </li>
        <li>
          Press <strong>Test Connection</strong> (JumpCloud creates and removes a test user and group), then{" "}
          <strong>Activate</strong> and <strong>Save</strong>.
        </li>
        <li>
          On the application's <strong>User Groups</strong> tab, select the groups whose members should have access, and{" "}
          <strong>Save</strong>.
        </li>
      </ol>
    </>
  );
}

// PingOne's SCIM provisioning connection and rule ("Create a provisioning connection",
// https://docs.pingidentity.com/r/en-us/pingone/pingone_create_provisioning_connection; "SCIM provisioning features",
// https://docs.pingidentity.com/pingone/integrations/p1_scim_provisioning_features.html).
function PingOneSteps() {
  return (
    <>
      <h2>PingOne</h2>
      <ol class="steps">
        <li>
          In the PingOne admin console, open <strong>Integrations → Provisioning</strong>, press <strong>+</strong> and{" "}
          <strong>New Connection</strong>, choose <strong>Identity Store</strong>, and <strong>Select</strong> the{" "}
          <strong>SCIM</strong> tile; name it and press <strong>Next</strong>.
        </li>
        <li>
          On the <strong>Authentication</strong> step, paste the SCIM base URL above into <strong>SCIM Base URL</strong>
          , set <strong>Users Resource</strong> to <code>/Users</code> and <strong>SCIM Version</strong> to{" "}
          <strong>2.0</strong>, choose <strong>OAuth 2 Bearer Token</strong> as the{" "}
          <strong>Authentication Method</strong> and paste the access token into the token field it shows, with{" "}
          <strong>Bearer</strong> as the <strong>Auth Type Header</strong>.
        </li>
        <li>
          Press <strong>Test Connection</strong>, then finish the setup and turn the connection on with its toggle.
        </li>
        <li>
          Add a provisioning <strong>rule</strong> from PingOne to this connection, choose the users (and groups) it
          provisions, check the <strong>Attribute Mapping</strong> (<code>userName</code> is how PingOne matches
          existing users), and turn the rule on.
        </li>
      </ol>
    </>
  );
}

// RFC 7644 is the whole contract: the base URL, bearer authentication, and the resources this service answers.
function GenericSteps() {
  return (
    <>
      <h2>Another SCIM 2.0 directory</h2>
      <ol class="steps">
        <li>
          In your directory's provisioning settings, add a SCIM 2.0 application (or connector) and paste the SCIM base
          URL above as its base URL (the <code>/Users</code> and <code>/Groups</code> endpoints are under it).
        </li>
        <li>
          Choose bearer token authentication (an <code>Authorization: Bearer …</code> header) and paste the access
          token.
        </li>
        <li>
          Test the connection: it reads <code>/ServiceProviderConfig</code> or searches <code>/Users</code>, which this
          service answers.
        </li>
        <li>Turn on creating, updating and deactivating users, and pushing groups, then assign people and groups.</li>
      </ol>
    </>
  );
}

/** Each provider's steps: a provider added to the registry fails the compiler here until it has its guide. */
const STEPS: Record<Provider, typeof EntraSteps> = {
  entra: EntraSteps,
  okta: OktaSteps,
  onelogin: OneLoginSteps,
  jumpcloud: JumpCloudSteps,
  pingone: PingOneSteps,
  scim: GenericSteps,
};
