import { ENTRA_MAPPINGS } from "../../../scim/entra-mappings";
import { CopyField, Page, type SessionFrame } from "./layout";

export type GuideIdp = "entra" | "okta";

/** Step-by-step setup for Entra or Okta, with this tenant's own SCIM base URL filled in. */
export function GuidePage({
  nonce,
  frame,
  idp,
  scimBaseUrl,
}: {
  nonce: string;
  frame: SessionFrame;
  idp: GuideIdp;
  scimBaseUrl: string;
}) {
  const tabs = [
    { idp: "entra", label: "Microsoft Entra ID", href: frame.paths.guide() },
    { idp: "okta", label: "Okta", href: frame.paths.guide("okta") },
  ] as const;
  return (
    <Page title="Setup guide" nonce={nonce} frame={frame} tab="guide">
      <h1>Setup guide</h1>
      <nav class="tabs" aria-label="Identity provider">
        {tabs.map((tab) => (
          <a href={tab.href} aria-current={tab.idp === idp ? "page" : undefined}>
            {tab.label}
          </a>
        ))}
      </nav>
      <div class="card">
        <CopyField id="scim-url" label="SCIM base URL" value={scimBaseUrl} />
        {idp === "entra" ? <EntraSteps /> : <OktaSteps />}
      </div>
    </Page>
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
          {ENTRA_MAPPINGS.map(([source, target, note]) => (
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
