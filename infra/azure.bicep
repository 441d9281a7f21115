// The Azure resources for one environment: an App Service plan and web app (Linux, Node 20) running the
// service, and the Azure Bot registration with its Microsoft Teams channel. Deployed by teamsapp.yml.
@maxLength(20)
@minLength(4)
@description('Used to name every resource, e.g. servicedesk-dev')
param resourceBaseName string

@description('The bot\'s Entra app (client) id')
param botAadAppClientId string

@secure()
@description('The bot\'s client secret')
param botAadAppClientSecret string

@description('The bot\'s Entra tenant')
param botTenantId string

@allowed(['MultiTenant', 'SingleTenant'])
param botAppType string = 'MultiTenant'

param webAppSku string = 'B1'
param botDisplayName string = 'Service Desk'
param location string = resourceGroup().location

resource plan 'Microsoft.Web/serverfarms@2022-09-01' = {
  name: resourceBaseName
  location: location
  kind: 'linux'
  sku: {
    name: webAppSku
  }
  properties: {
    reserved: true
  }
}

resource webApp 'Microsoft.Web/sites@2022-09-01' = {
  name: resourceBaseName
  location: location
  kind: 'app,linux'
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      linuxFxVersion: 'NODE|20-lts'
      alwaysOn: true
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
      appCommandLine: 'node --disable-warning=DEP0111 dist/src/main.js'
      appSettings: [
        { name: 'NODE_ENV', value: 'production' }
        { name: 'PORT', value: '8080' }
        { name: 'WEBSITES_PORT', value: '8080' }
        { name: 'SCM_DO_BUILD_DURING_DEPLOYMENT', value: 'true' }
        // /home survives restarts and redeploys on App Service; for several instances use PostgreSQL.
        { name: 'DATABASE_URL', value: 'sqlite:/home/data/service-desk.db' }
        { name: 'BOT_ID', value: botAadAppClientId }
        { name: 'BOT_PASSWORD', value: botAadAppClientSecret }
        { name: 'BOT_TENANT_ID', value: botTenantId }
        { name: 'BOT_TYPE', value: botAppType }
      ]
    }
  }
}

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: resourceBaseName
  location: 'global'
  kind: 'azurebot'
  sku: {
    name: 'F0'
  }
  properties: {
    displayName: botDisplayName
    endpoint: 'https://${webApp.properties.defaultHostName}/api/messages'
    msaAppId: botAadAppClientId
    msaAppType: botAppType
    msaAppTenantId: botAppType == 'SingleTenant' ? botTenantId : ''
  }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
  }
}

// Read by the toolkit: written to env/.env.<env> for the deploy step and the app package.
output BOT_AZURE_APP_SERVICE_RESOURCE_ID string = webApp.id
output BOT_DOMAIN string = webApp.properties.defaultHostName
output BOT_ENDPOINT string = 'https://${webApp.properties.defaultHostName}'
