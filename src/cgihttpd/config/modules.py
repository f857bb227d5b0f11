"""The registry of Apache httpd 2.4 modules and the directives each one defines.

This module owns *which module defines which directive, and where that directive may
appear* — the facts behind Apache's "Invalid command ..." and "... not allowed here"
messages — and which modules cgihttpd implements. It knows nothing of what a directive
does (that is ``directives``) nor of files (that is ``loader``).

The table was generated from Debian's apache2 2.4 itself: every module of
/etc/apache2/mods-available loaded at once (and each MPM in turn) and ``apache2 -L``
listed the directives, their module and where they are allowed. Each entry is
``Name/PLACE[OVERRIDES]``:

- PLACE ``R``: only outside <Directory>, <Files>, <Location> (RSRC_CONF);
  ``A``: only inside them (ACCESS_CONF, or OR_AUTHCFG/OR_LIMIT which the server level
  masks out, server/config.c ``ap_process_config_tree``); ``*``: anywhere.
- OVERRIDES (what a .htaccess may hold, ``config.htaccess``): ``A`` AuthConfig, ``F``
  FileInfo, ``I`` Indexes, ``L`` Limit, ``O`` Options, ``N`` any AllowOverride but None;
  none: never in a .htaccess.

It also owns the one list of directives that *protect* (``protection``): those of
authentication, authorization and access control. cgihttpd must enforce what such a
directive says or refuse it (a start-up error; a 500 for a .htaccess), never load it
with a warning and serve unprotected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Placement = Literal["R", "A", "*"]

# fmt: off
_APACHE_TABLE = """
core_module core.c: <Directory/R <Location/R <VirtualHost/R <Files/*N <Limit/AAL
    <LimitExcept/AAL <IfModule/*N <IfDefine/*N <IfFile/*N <IfDirective/*N <IfSection/*N
    <DirectoryMatch/R <LocationMatch/R <FilesMatch/*N AddDefaultCharset/*F AcceptPathInfo/*F
    Define/* UnDefine/* Error/*N <If/*N <ElseIf/*N <Else/*N AccessFileName/R DocumentRoot/R
    ErrorDocument/*F AllowOverride/A AllowOverrideList/A Options/*O DefaultType/*F
    FileETag/*F EnableMMAP/*F EnableSendfile/*F ReadBufferSize/* FlushMaxThreshold/R
    FlushMaxPipelined/R Protocol/R AcceptFilter/R Port/R HostnameLookups/* ServerAdmin/R
    ServerName/R ServerSignature/*N ServerRoot/R DefaultRuntimeDir/R ErrorLog/R
    ErrorLogFormat/R ServerAlias/R ServerPath/R Timeout/R ContentDigest/*O
    UseCanonicalName/* UseCanonicalPhysicalPort/* Include/* IncludeOptional/* LogLevel/*
    NameVirtualHost/R ServerTokens/R LimitRequestLine/R LimitRequestFieldsize/R
    LimitRequestFields/R LimitRequestBody/*N LimitXMLRequestBody/*N Mutex/R MaxRanges/*
    MaxRangeOverlaps/* MaxRangeReversals/* RLimitCPU/*N RLimitMEM/*N RLimitNPROC/*N
    RegexDefaultOptions/R LimitInternalRecursion/R CGIPassAuth/AA CGIVar/*F
    QualifyRedirectURL/*F StrictHostCheck/R ForceType/*F SetHandler/*F SetOutputFilter/*F
    SetInputFilter/*F AllowEncodedSlashes/R ScoreBoardFile/R ExtendedStatus/R
    SeeRequestTail/R PidFile/R MaxRequestsPerChild/R MaxConnectionsPerChild/R
    CoreDumpDirectory/R MaxMemFree/R ThreadStackSize/R TraceEnable/R MergeTrailers/R
    Protocols/R ProtocolsHonorOrder/R HttpProtocolOptions/R RegisterHttpMethod/R
    MergeSlashes/R
http_module http_core.c: KeepAliveTimeout/R MaxKeepAliveRequests/R KeepAlive/R
log_config_module mod_log_config.c: CustomLog/R GlobalLog/R TransferLog/R LogFormat/R
    BufferedLogs/R
logio_module mod_logio.c: LogIOTrackTTFB/*N
so_module mod_so.c: LoadModule/R LoadFile/R
unixd_module mod_unixd.c: User/R Group/R ChrootDir/R Suexec/R
version_module mod_version.c: <IfVersion/*N
watchdog_module mod_watchdog.c: WatchdogInterval/R
access_compat_module mod_access_compat.c: order/AL allow/AL deny/AL Satisfy/AA
actions_module mod_actions.c: Action/*F Script/*
alias_module mod_alias.c: Alias/* ScriptAlias/* Redirect/*F AliasMatch/R ScriptAliasMatch/R
    RedirectMatch/*F RedirectTemp/*F RedirectPermanent/*F RedirectRelative/*F
    AliasPreservePath/*F
allowmethods_module mod_allowmethods.c: AllowMethods/A
asis_module mod_asis.c:
auth_basic_module mod_auth_basic.c: AuthBasicProvider/AA AuthBasicAuthoritative/AA
    AuthBasicFake/AA AuthBasicUseDigestAlgorithm/AA
auth_digest_module mod_auth_digest.c: AuthDigestProvider/AA AuthDigestQop/AA
    AuthDigestNonceLifetime/AA AuthDigestNcCheck/AA AuthDigestAlgorithm/AA
    AuthDigestDomain/AA AuthDigestShmemSize/R
auth_form_module mod_auth_form.c: AuthFormProvider/AA AuthFormUsername/AA
    AuthFormPassword/AA AuthFormLocation/AA AuthFormMethod/AA AuthFormMimetype/AA
    AuthFormBody/AA AuthFormSize/A AuthFormLoginRequiredLocation/AA
    AuthFormLoginSuccessLocation/AA AuthFormLogoutLocation/AA AuthFormSitePassphrase/AA
    AuthFormAuthoritative/AA AuthFormFakeBasicAuth/AA AuthFormDisableNoStore/AA
authn_anon_module mod_authn_anon.c: Anonymous/AA Anonymous_MustGiveEmail/AA
    Anonymous_NoUserId/AA Anonymous_VerifyEmail/AA Anonymous_LogEmail/AA
authn_core_module mod_authn_core.c: AuthType/AA AuthName/AA <AuthnProviderAlias/R
authn_dbd_module mod_authn_dbd.c: AuthDBDUserPWQuery/A AuthDBDUserRealmQuery/A
authn_dbm_module mod_authn_dbm.c: AuthDBMUserFile/AA AuthDBMType/AA
authn_file_module mod_authn_file.c: AuthUserFile/AA
authn_socache_module mod_authn_socache.c: AuthnCacheSOCache/R AuthnCacheEnable/R
    AuthnCacheProvideFor/AA AuthnCacheTimeout/AA AuthnCacheContext/A
authnz_fcgi_module mod_authnz_fcgi.c: AuthnzFcgiDefineProvider/R
    AuthnzFcgiCheckAuthnProvider/*F
authnz_ldap_module mod_authnz_ldap.c: AuthLDAPURL/AA AuthLDAPBindDN/AA
    AuthLDAPBindPassword/AA AuthLDAPBindAuthoritative/AA AuthLDAPRemoteUserIsDN/AA
    AuthLDAPRemoteUserAttribute/AA AuthLDAPCompareDNOnServer/AA AuthLDAPSubGroupAttribute/AA
    AuthLDAPSubGroupClass/AA AuthLDAPMaxSubGroupDepth/AA AuthLDAPGroupAttribute/AA
    AuthLDAPGroupAttributeIsDN/AA AuthLDAPDereferenceAliases/AA AuthLDAPCharsetConfig/R
    AuthLDAPAuthorizePrefix/AA AuthLDAPInitialBindAsUser/AA AuthLDAPInitialBindPattern/AA
    AuthLDAPSearchAsUser/AA AuthLDAPCompareAsUser/AA
authz_core_module mod_authz_core.c: <AuthzProviderAlias/R Require/AA <RequireAll/AA
    <RequireAny/AA <RequireNone/AA AuthMerging/AA AuthzSendForbiddenOnFailure/AA
authz_dbd_module mod_authz_dbd.c: AuthzDBDLoginToReferer/A AuthzDBDQuery/A
    AuthzDBDRedirectQuery/A
authz_dbm_module mod_authz_dbm.c: AuthDBMGroupFile/AA AuthzDBMType/AA
authz_groupfile_module mod_authz_groupfile.c: AuthGroupFile/AA
authz_host_module mod_authz_host.c:
authz_owner_module mod_authz_owner.c:
authz_user_module mod_authz_user.c:
autoindex_module mod_autoindex.c: AddIcon/*I AddIconByType/*I AddIconByEncoding/*I AddAlt/*I
    AddAltByType/*I AddAltByEncoding/*I IndexOptions/*I IndexOrderDefault/*I IndexIgnore/*I
    IndexIgnoreReset/*I AddDescription/*I HeaderName/*I ReadmeName/*I FancyIndexing/*N
    DefaultIcon/*I IndexStyleSheet/*I IndexHeadInsert/*I
brotli_module mod_brotli.c: BrotliFilterNote/R BrotliCompressionQuality/R
    BrotliCompressionWindow/R BrotliCompressionMaxInputBlock/R BrotliAlterETag/R
buffer_module mod_buffer.c: BufferSize/A
cache_disk_module mod_cache_disk.c: CacheRoot/R CacheDirLevels/R CacheDirLength/R
    CacheMinFileSize/* CacheMaxFileSize/* CacheReadSize/* CacheReadTime/*
cache_module mod_cache.c: CacheEnable/* CacheDisable/* CacheMaxExpire/* CacheMinExpire/*
    CacheDefaultExpire/* CacheQuickHandler/R CacheIgnoreNoLastMod/*
    CacheIgnoreCacheControl/R CacheStoreExpired/* CacheStorePrivate/* CacheStoreNoStore/*
    CacheIgnoreHeaders/R CacheIgnoreQueryString/R CacheIgnoreURLSessionIdentifiers/R
    CacheLastModifiedFactor/* CacheLock/R CacheLockPath/R CacheLockMaxAge/R CacheHeader/*
    CacheDetailHeader/* CacheKeyBaseURL/R CacheStaleOnError/*
cache_socache_module mod_cache_socache.c: CacheSocache/R CacheSocacheMaxTime/*
    CacheSocacheMinTime/* CacheSocacheMaxSize/* CacheSocacheReadSize/*
    CacheSocacheReadTime/*
cern_meta_module mod_cern_meta.c: MetaFiles/*I MetaDir/*I MetaSuffix/*I
cgi_module mod_cgi.c: ScriptLog/R ScriptLogLength/R ScriptLogBuffer/R CGIScriptTimeout/*
cgid_module mod_cgid.c: ScriptLog/R ScriptLogLength/R ScriptLogBuffer/R ScriptSock/R
    CGIDScriptTimeout/*
charset_lite_module mod_charset_lite.c: CharsetSourceEnc/*F CharsetDefault/*F
    CharsetOptions/*F
data_module mod_data.c:
dav_fs_module mod_dav_fs.c: DAVLockDB/R
dav_lock_module mod_dav_lock.c: DAVGenericLockDB/A
dav_module mod_dav.c: DAV/A DAVBasePath/A DAVMinTimeout/* DAVDepthInfinity/*
    DAVLockDiscovery/*
dbd_module mod_dbd.c: DBDriver/R DBDParams/R DBDPersist/R DBDPrepareSQL/R DBDInitSQL/R
    DBDMin/R DBDKeep/R DBDMax/R DBDExptime/R
deflate_module mod_deflate.c: DeflateFilterNote/R DeflateWindowSize/R DeflateBufferSize/R
    DeflateMemLevel/R DeflateCompressionLevel/R DeflateInflateLimitRequestBody/*N
    DeflateInflateRatioLimit/*N DeflateInflateRatioBurst/*N DeflateAlterEtag/R
dialup_module mod_dialup.c: ModemStandard/A
dir_module mod_dir.c: FallbackResource/*I DirectoryIndex/*I DirectorySlash/*I
    DirectoryCheckHandler/*I DirectoryIndexRedirect/*I
dumpio_module mod_dumpio.c: DumpIOInput/R DumpIOOutput/R
echo_module mod_echo.c: ProtocolEcho/R
env_module mod_env.c: PassEnv/*F SetEnv/*F UnsetEnv/*F
expires_module mod_expires.c: ExpiresActive/*I ExpiresByType/*I ExpiresDefault/*I
ext_filter_module mod_ext_filter.c: ExtFilterOptions/A ExtFilterDefine/R
file_cache_module mod_file_cache.c: cachefile/R mmapfile/R
filter_module mod_filter.c: FilterDeclare/*O FilterProvider/*O FilterChain/*O FilterTrace/*
    AddOutputFilterByType/*F FilterProtocol/*O
headers_module mod_headers.c: Header/*F RequestHeader/*F
heartbeat_module mod_heartbeat.c: HeartbeatAddress/R
heartmonitor_module mod_heartmonitor.c: HeartbeatListen/R HeartbeatStorage/R
    HeartbeatMaxServers/R
http2_module mod_http2.c: H2MaxSessionStreams/R H2WindowSize/R H2MinWorkers/R H2MaxWorkers/R
    H2MaxWorkerIdleSeconds/R H2StreamMaxMemSize/R H2SerializeHeaders/R H2ModernTLSOnly/R
    H2Upgrade/*A H2Direct/R H2SessionExtraFiles/R H2TLSWarmUpSize/R H2TLSCoolDownSecs/R
    H2Push/*A H2PushPriority/R H2PushDiarySize/R H2CopyFiles/*F H2PushResource/*AF
    H2EarlyHints/R H2Padding/R H2OutputBuffering/R H2StreamTimeout/R H2MaxDataFrameLen/R
    H2MaxHeaderBlockLen/R H2MaxStreamErrors/R H2EarlyHint/*AF H2ProxyRequests/*F
    H2WebSockets/R
ident_module mod_ident.c: IdentityCheck/* IdentityCheckTimeout/*
imagemap_module mod_imagemap.c: ImapMenu/*I ImapDefault/*I ImapBase/*I
include_module mod_include.c: XBitHack/*O SSIErrorMsg/*N SSITimeFormat/*N SSIStartTag/R
    SSIEndTag/R SSIUndefinedEcho/*N SSILegacyExprParser/AL SSILastModified/AL SSIEtag/AL
info_module mod_info.c: AddModuleInfo/R
lbmethod_bybusyness_module mod_lbmethod_bybusyness.c:
lbmethod_byrequests_module mod_lbmethod_byrequests.c:
lbmethod_bytraffic_module mod_lbmethod_bytraffic.c:
lbmethod_heartbeat_module mod_lbmethod_heartbeat.c: HeartbeatStorage/R
ldap_module util_ldap.c: LDAPSharedCacheSize/R LDAPSharedCacheFile/R LDAPCacheEntries/R
    LDAPCacheTTL/R LDAPOpCacheEntries/R LDAPOpCacheTTL/R LDAPTrustedGlobalCert/R
    LDAPTrustedClientCert/AA LDAPTrustedMode/R LDAPVerifyServerCert/R
    LDAPConnectionTimeout/R LDAPReferrals/AA LDAPReferralHopLimit/AA LDAPLibraryDebug/R
    LDAPTimeout/R LDAPConnectionPoolTTL/R LDAPRetries/R LDAPRetryDelay/R
log_debug_module mod_log_debug.c: LogMessage/*
log_forensic_module mod_log_forensic.c: ForensicLog/R
lua_module mod_lua.c: LuaRoot/*N LuaPackagePath/*N LuaPackageCPath/*N LuaAuthzProvider/R
    LuaHookPreTranslateName/*N <LuaHookPreTranslateName/*N LuaHookTranslateName/*N
    <LuaHookTranslateName/*N LuaHookFixups/*N <LuaHookFixups/*N LuaHookMapToStorage/*N
    <LuaHookMapToStorage/*N LuaHookCheckUserID/*N <LuaHookCheckUserID/*N
    LuaHookTypeChecker/*N <LuaHookTypeChecker/*N LuaHookAccessChecker/*N
    <LuaHookAccessChecker/*N LuaHookAuthChecker/*N <LuaHookAuthChecker/*N
    LuaHookInsertFilter/*N LuaHookLog/*N LuaScope/*N LuaInherit/*N LuaCodeCache/*N
    LuaQuickHandler/*N <LuaQuickHandler/*N Lua_____ByteCodeHack/*N LuaMapHandler/*N
    LuaOutputFilter/*N LuaInputFilter/*N
macro_module mod_macro.c: <Macro/*N Use/*N UndefMacro/*N MacroIgnoreEmptyArgs/*N
    MacroIgnoreBadNesting/*N
md_module mod_md.c: MDCertificateAuthority/R MDCertificateAgreement/R MDCAChallenges/R
    MDCertificateProtocol/R MDContactEmail/R MDDriveMode/R MDRenewMode/R MDomain/R
    <MDomainSet/R <MDomain/R MDMember/R MDMembers/R MDMustStaple/R MDPortMap/R
    MDPrivateKeys/R MDHttpProxy/R MDStoreDir/R MDRenewWindow/R MDRequireHttps/*A
    MDNotifyCmd/R MDBaseServer/R MDChallengeDns01/R MDChallengeDns01Version/R
    MDCertificateFile/R MDCertificateKeyFile/R MDServerStatus/R MDCertificateStatus/R
    MDWarnWindow/R MDMessageCmd/R MDStapling/R MDStapleOthers/R MDStaplingKeepResponse/R
    MDStaplingRenewWindow/R MDCertificateCheck/R MDActivationDelay/R MDCACertificateFile/R
    MDHttpProxyCACertificateFile/R MDExternalAccountBinding/R MDRetryDelay/R
    MDRetryFailover/R MDStoreLocks/R MDMatchNames/R MDInitialDelay/R MDCheckInterval/R
    MDProfile/R MDProfileMandatory/R MDRenewViaARI/R
mime_magic_module mod_mime_magic.c: MimeMagicFile/R
mime_module mod_mime.c: AddCharset/*F AddEncoding/*F AddHandler/*F AddInputFilter/*F
    AddLanguage/*F AddOutputFilter/*F AddType/*F DefaultLanguage/*F MultiviewsMatch/*F
    RemoveCharset/*F RemoveEncoding/*F RemoveHandler/*F RemoveInputFilter/*F
    RemoveLanguage/*F RemoveOutputFilter/*F RemoveType/*F TypesConfig/R ModMimeUsePathInfo/A
mpm_event_module event.c: ListenBacklog/R ListenCoresBucketsRatio/R Listen/R
    SendBufferSize/R ReceiveBufferSize/R ListenTCPDeferAccept/R StartServers/R ServerLimit/R
    MinSpareThreads/R MaxSpareThreads/R MaxClients/R MaxRequestWorkers/R ThreadsPerChild/R
    ThreadLimit/R AsyncRequestWorkerFactor/R GracefulShutdownTimeout/R
mpm_prefork_module prefork.c: ListenBacklog/R ListenCoresBucketsRatio/R Listen/R
    SendBufferSize/R ReceiveBufferSize/R ListenTCPDeferAccept/R StartServers/R
    MinSpareServers/R MaxSpareServers/R MaxClients/R MaxRequestWorkers/R ServerLimit/R
    GracefulShutdownTimeout/R
mpm_worker_module worker.c: ListenBacklog/R ListenCoresBucketsRatio/R Listen/R
    SendBufferSize/R ReceiveBufferSize/R ListenTCPDeferAccept/R StartServers/R
    MinSpareThreads/R MaxSpareThreads/R MaxRequestWorkers/R MaxClients/R ThreadsPerChild/R
    ServerLimit/R ThreadLimit/R GracefulShutdownTimeout/R
negotiation_module mod_negotiation.c: CacheNegotiatedDocs/R LanguagePriority/*F
    ForceLanguagePriority/*F
proxy_ajp_module mod_proxy_ajp.c:
proxy_balancer_module mod_proxy_balancer.c:
proxy_connect_module mod_proxy_connect.c: AllowCONNECT/R
proxy_express_module mod_proxy_express.c: ProxyExpressEnable/*F ProxyExpressDBMFile/*F
    ProxyExpressDBMType/*F
proxy_fcgi_module mod_proxy_fcgi.c: ProxyFCGIBackendType/*F ProxyFCGISetEnvIf/*F
proxy_fdpass_module mod_proxy_fdpass.c:
proxy_ftp_module mod_proxy_ftp.c: ProxyFtpListOnWildcard/* ProxyFtpEscapeWildcards/*
    ProxyFtpDirCharset/*
proxy_hcheck_module mod_proxy_hcheck.c: ProxyHCTemplate/*F ProxyHCExpr/*F ProxyHCTPsize/R
proxy_html_module mod_proxy_html.c: ProxyHTMLEvents/* ProxyHTMLLinks/* ProxyHTMLURLMap/*
    ProxyHTMLDoctype/* ProxyHTMLFixups/* ProxyHTMLMeta/* ProxyHTMLInterp/*
    ProxyHTMLExtended/* ProxyHTMLStripComments/* ProxyHTMLBufSize/* ProxyHTMLCharsetOut/*
    ProxyHTMLEnable/*
proxy_http2_module mod_proxy_http2.c:
proxy_http_module mod_proxy_http.c:
proxy_module mod_proxy.c: <Proxy/R <ProxyMatch/R ProxyRequests/R ProxyRemote/R
    ProxyRemoteMatch/R ProxyPassInterpolateEnv/* ProxyPass/* ProxyPassMatch/*
    ProxyPassReverse/* ProxyPassReverseCookiePath/* ProxyPassReverseCookieDomain/*
    ProxyBlock/R ProxyReceiveBufferSize/R ProxyIOBufferSize/R ProxyMaxForwards/R NoProxy/R
    ProxyDomain/R ProxyVia/R ProxyErrorOverride/* ProxyPreserveHost/* ProxyTimeout/R
    ProxyBadHeader/R BalancerMember/* BalancerGrowth/R BalancerPersist/R BalancerInherit/R
    ProxyPassInherit/R ProxyStatus/R ProxySet/* ProxySourceAddress/R ProxyAddHeaders/*
    Proxy100Continue/*
proxy_scgi_module mod_proxy_scgi.c: ProxySCGISendfile/* ProxySCGIInternalRedirect/*
proxy_uwsgi_module mod_proxy_uwsgi.c:
proxy_wstunnel_module mod_proxy_wstunnel.c: ProxyWebsocketFallbackToProxyHttp/*
ratelimit_module mod_ratelimit.c:
reflector_module mod_reflector.c: ReflectorHeader/*O
remoteip_module mod_remoteip.c: RemoteIPHeader/R RemoteIPProxiesHeader/R
    RemoteIPTrustedProxy/R RemoteIPInternalProxy/R RemoteIPTrustedProxyList/R
    RemoteIPInternalProxyList/R RemoteIPProxyProtocol/R RemoteIPProxyProtocolExceptions/R
reqtimeout_module mod_reqtimeout.c: RequestReadTimeout/R
request_module mod_request.c: KeptBodySize/A
rewrite_module mod_rewrite.c: RewriteEngine/*F RewriteOptions/*F RewriteBase/*F
    RewriteCond/*F RewriteRule/*F RewriteMap/R
sed_module mod_sed.c: OutputSed/A InputSed/A
session_cookie_module mod_session_cookie.c: SessionCookieName/*A SessionCookieName2/*A
    SessionCookieRemove/*A
session_crypto_module mod_session_crypto.c: SessionCryptoPassphrase/*A
    SessionCryptoPassphraseFile/* SessionCryptoCipher/*A SessionCryptoDriver/R
session_dbd_module mod_session_dbd.c: SessionDBDSelectLabel/*A SessionDBDInsertLabel/*A
    SessionDBDUpdateLabel/*A SessionDBDDeleteLabel/*A SessionDBDPerUser/*A
    SessionDBDCookieRemove/*A SessionDBDCookieName/*A SessionDBDCookieName2/*A
session_module mod_session.c: Session/*A SessionMaxAge/*A SessionHeader/*A SessionEnv/*A
    SessionInclude/*A SessionExclude/*A SessionExpiryUpdateInterval/*A
setenvif_module mod_setenvif.c: SetEnvIf/*F SetEnvIfNoCase/*F SetEnvIfExpr/*F
    BrowserMatch/*F BrowserMatchNoCase/*F
slotmem_plain_module mod_slotmem_plain.c:
slotmem_shm_module mod_slotmem_shm.c:
socache_dbm_module mod_socache_dbm.c:
socache_memcache_module mod_socache_memcache.c: MemcacheConnTTL/R
socache_redis_module mod_socache_redis.c: RedisConnPoolTTL/R RedisTimeout/R
socache_shmcb_module mod_socache_shmcb.c:
speling_module mod_speling.c: CheckSpelling/*O CheckCaseOnly/*O CheckBasenameMatch/*O
ssl_module mod_ssl.c: SSLPassPhraseDialog/R SSLSessionCache/R SSLCryptoDevice/R
    SSLRandomSeed/R SSLVHostSNIPolicy/R SSLEngine/R SSLFIPS/R SSLCipherSuite/*A
    SSLCertificateFile/R SSLCertificateKeyFile/R SSLCertificateChainFile/R
    SSLSessionTicketKeyFile/R SSLCACertificatePath/*A SSLCACertificateFile/*A
    SSLCADNRequestPath/R SSLCADNRequestFile/R SSLCARevocationPath/R SSLCARevocationFile/R
    SSLCARevocationCheck/R SSLVerifyClient/*A SSLVerifyDepth/*A SSLSessionCacheTimeout/R
    SSLProtocol/R SSLHonorCipherOrder/R SSLCompression/R SSLSessionTickets/R
    SSLInsecureRenegotiation/R SSLUserName/*A SSLStrictSNIVHostCheck/R SSLSRPVerifierFile/R
    SSLSRPUnknownUserSeed/R SSLProxyEngine/R SSLProxyProtocol/R SSLProxyCipherSuite/R
    SSLProxyVerify/R SSLProxyVerifyDepth/R SSLProxyCACertificateFile/R
    SSLProxyCACertificatePath/R SSLProxyCARevocationPath/R SSLProxyCARevocationFile/R
    SSLProxyCARevocationCheck/R SSLProxyMachineCertificateFile/R
    SSLProxyMachineCertificatePath/R SSLProxyMachineCertificateChainFile/R
    SSLProxyCheckPeerExpire/R SSLProxyCheckPeerCN/R SSLProxyCheckPeerName/R SSLOptions/*O
    SSLRequireSSL/AA SSLRequire/AA SSLRenegBufferSize/AA SSLOCSPEnable/R
    SSLOCSPDefaultResponder/R SSLOCSPOverrideResponder/R SSLOCSPResponseTimeSkew/R
    SSLOCSPResponseMaxAge/R SSLOCSPResponderTimeout/R SSLOCSPUseRequestNonce/R
    SSLOCSPProxyURL/R SSLOCSPNoVerify/R SSLOCSPResponderCertificateFile/R SSLStaplingCache/R
    SSLUseStapling/R SSLStaplingResponseTimeSkew/R SSLStaplingResponderTimeout/R
    SSLStaplingResponseMaxAge/R SSLStaplingStandardCacheTimeout/R
    SSLStaplingReturnResponderErrors/R SSLStaplingFakeTryLater/R
    SSLStaplingErrorCacheTimeout/R SSLStaplingForceURL/R SSLOpenSSLConfCmd/R SSLLog/*N
    SSLLogLevel/*N
status_module mod_status.c:
substitute_module mod_substitute.c: Substitute/*F SubstituteMaxLineLength/*F
    SubstituteInheritBefore/*F
suexec_module mod_suexec.c: SuexecUserGroup/R
unique_id_module mod_unique_id.c:
userdir_module mod_userdir.c: UserDir/R
usertrack_module mod_usertrack.c: CookieExpires/*F CookieDomain/*F CookieStyle/*F
    CookieTracking/*F CookieName/*F CookieSameSite/*F CookieSecure/*F CookieHttpOnly/*F
vhost_alias_module mod_vhost_alias.c: VirtualScriptAlias/R VirtualDocumentRoot/R
    VirtualScriptAliasIP/R VirtualDocumentRootIP/R
xml2enc_module mod_xml2enc.c: xml2EncDefault/*N xml2EncAlias/R xml2StartParse/*N
"""
# fmt: on

#: cgihttpd's own directives: a pseudo-module that is always loaded.
_CGIHTTPD_TABLE = """
cgihttpd_module cgihttpd: CGIPythonInterpreter/*F CGIWarmPython/*F CGIWarmPreload/R
    CGIMaxProcesses/R CGIQueueTimeout/R CGIQueueMemory/R CGIDevMode/R
"""

#: Compiled into Debian's apache2 (``apache2 -l``); always loaded. Upstream builds load
#: log_config as a shared module, so a ``LoadModule`` of these is accepted silently
#: (Debian's apache2 would reject it as "built-in").
BUILTIN_MODULES: frozenset[str] = frozenset({
    "core_module", "http_module", "so_module", "watchdog_module", "log_config_module",
    "logio_module", "version_module", "unixd_module", "cgihttpd_module",
})

#: Modules whose directives cgihttpd acts on (the directive table says which ones; any
#: other directive of these modules is reported once as ignored).
IMPLEMENTED_MODULES: frozenset[str] = frozenset({
    "core_module", "http_module", "so_module", "watchdog_module", "log_config_module",
    "logio_module", "version_module", "unixd_module", "cgihttpd_module",
    "mpm_event_module", "mpm_prefork_module", "mpm_worker_module",
    "mime_module", "dir_module", "alias_module", "authz_core_module", "authz_host_module",
    "env_module", "cgi_module", "cgid_module", "autoindex_module", "reqtimeout_module",
    "setenvif_module", "headers_module", "rewrite_module", "status_module",
    "remoteip_module",
    # HTTP Basic against htpasswd files; Require trees (and the forms that need a user);
    # Order/Allow/Deny/Satisfy
    "auth_basic_module", "authn_core_module", "authn_file_module", "authz_user_module",
    "authz_groupfile_module", "access_compat_module",
    # TLS (directives.tls): what it cannot honour stops the start
    "ssl_module",
})

MPM_MODULES: frozenset[str] = frozenset(
    {"mpm_event_module", "mpm_prefork_module", "mpm_worker_module"}
)

#: What the directives of each protecting module do, for the refusal's message. Every
#: directive of these modules protects (or configures a protection, as AuthName does);
#: one the directive table does not hold is refused. The table holds mod_authz_core's,
#: mod_access_compat's, ``<Limit>``/``<LimitExcept>`` (``directives.require``,
#: ``directives.access_compat``; the providers it cannot evaluate are refused there),
#: and AuthType Basic with the file provider (``directives.auth``).
_AUTHN = "authentication"
_AUTHZ = "authorization"
PROTECTIVE_MODULES: dict[str, str] = {
    "auth_basic_module": _AUTHN, "auth_digest_module": _AUTHN, "auth_form_module": _AUTHN,
    "authn_anon_module": _AUTHN, "authn_core_module": _AUTHN, "authn_dbd_module": _AUTHN,
    "authn_dbm_module": _AUTHN, "authn_file_module": _AUTHN,
    "authn_socache_module": _AUTHN, "authnz_fcgi_module": _AUTHN,
    "authnz_ldap_module": _AUTHN, "authz_core_module": _AUTHZ,
    "authz_dbd_module": _AUTHZ, "authz_dbm_module": _AUTHZ,
    "authz_groupfile_module": _AUTHZ, "authz_host_module": _AUTHZ,
    "authz_owner_module": _AUTHZ, "authz_user_module": _AUTHZ,
    "access_compat_module": "access control (mod_access_compat)",
    "allowmethods_module": "method restriction (mod_allowmethods)",
}

#: Protecting directives of modules that also define others (lower-case keys).
PROTECTIVE_DIRECTIVES: dict[str, str] = {
    "<limit": "access control by method", "<limitexcept": "access control by method",
    "sslrequire": _AUTHZ, "sslrequiressl": "access control (mod_ssl)",  # enforced
    "limitrequestbody": "a per-directory request body limit",
    "limitxmlrequestbody": "a per-directory request body limit",
}


def protection(info: DirectiveInfo) -> str | None:
    """What ``info`` protects ("authentication", ...), or None if it protects nothing."""
    return PROTECTIVE_DIRECTIVES.get(info.name.lower()) or PROTECTIVE_MODULES.get(info.module)


def refusal(name: str, what: str, htaccess: bool = False) -> str:
    """The message that refuses protecting directive ``name`` cgihttpd does not enforce:
    at start-up, or (``htaccess``) for the requests a .htaccess governs."""
    instead = ("refusing the request rather than serve it unprotected" if htaccess
               else "refusing to start rather than serve unprotected")
    return f"{name}: {what} is not supported by cgihttpd yet; {instead}"


@dataclass(frozen=True, slots=True)
class DirectiveInfo:
    """Where one module's directive may appear (see the module docstring)."""

    name: str
    module: str
    placement: Placement
    overrides: str


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    name: str  # "cgi_module"
    source: str  # "mod_cgi.c"
    directives: tuple[DirectiveInfo, ...]

    @property
    def implemented(self) -> bool:
        return self.name in IMPLEMENTED_MODULES

    @property
    def builtin(self) -> bool:
        return self.name in BUILTIN_MODULES


def _parse_table(text: str) -> list[ModuleInfo]:
    modules: list[ModuleInfo] = []
    entries: list[tuple[str, str, list[str]]] = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        if raw.startswith(" "):
            entries[-1][2].extend(raw.split())
            continue
        head, _, rest = raw.partition(":")
        name, source = head.split()
        entries.append((name, source, rest.split()))
    for name, source, toks in entries:
        infos: list[DirectiveInfo] = []
        for tok in toks:
            dname, _, spec = tok.rpartition("/")
            place = spec[0]
            assert place in ("R", "A", "*")
            infos.append(DirectiveInfo(dname, name, place, spec[1:]))  # type: ignore[arg-type]
        modules.append(ModuleInfo(name, source, tuple(infos)))
    return modules


class Registry:
    """Lookup by module spelling and by directive name (case-insensitive)."""

    def __init__(self, modules: list[ModuleInfo]) -> None:
        self.modules: dict[str, ModuleInfo] = {m.name: m for m in modules}
        self._by_source = {m.source: m for m in modules}
        self._directives: dict[str, list[DirectiveInfo]] = {}
        for m in modules:
            for d in m.directives:
                self._directives.setdefault(d.name.lower(), []).append(d)

    def module(self, spelling: str) -> ModuleInfo | None:
        """``x_module`` or ``mod_x.c`` (exact case, as Apache's <IfModule>)."""
        return self.modules.get(spelling) or self._by_source.get(spelling)

    def definitions(self, directive: str) -> list[DirectiveInfo]:
        """Every module's definition of ``directive`` (``<Name`` for sections)."""
        return self._directives.get(directive.lower(), [])

    def lookup(self, directive: str, loaded: set[str] | frozenset[str]) -> DirectiveInfo | None:
        """The definition from a loaded module, else None ("Invalid command").

        With no MPM loaded, the MPM directives (Listen, ThreadsPerChild, ...) are still
        valid: Windows builds (XAMPP, the course's) have mpm_winnt compiled in and their
        httpd.conf loads no MPM; cgihttpd needs none."""
        defs = self.definitions(directive)
        for d in defs:
            if d.module in loaded:
                return d
        if defs and not (MPM_MODULES & loaded):
            for d in defs:
                if d.module in MPM_MODULES:
                    return d
        return None


REGISTRY = Registry(_parse_table(_APACHE_TABLE) + _parse_table(_CGIHTTPD_TABLE))


def matches_module(spelling: str, loaded: set[str] | frozenset[str]) -> bool:
    """<IfModule spelling>: true when the module named ``x_module`` or ``mod_x.c`` is
    loaded (core.c ``start_ifmod`` looks the name up both ways, case-sensitively)."""
    info = REGISTRY.module(spelling)
    if info is not None:
        return info.name in loaded
    return spelling in loaded


#: What a request gets when a module cgihttpd does not implement is loaded anyway (Debian
#: enables several by default): said once at start-up, in the module's warning. A module
#: not named here is reported with its ignored directives only.
UNIMPLEMENTED_EFFECTS: dict[str, str] = {
    "deflate_module": "responses are sent uncompressed",
    "filter_module": "no output filter runs",
    "negotiation_module": "no content negotiation (MultiViews, type maps, LanguagePriority)",
    "info_module": "no server-info page",
    "expires_module": "no Expires or max-age headers are added",
    "include_module": "server-side includes are sent unparsed",
    "userdir_module": "/~user/ paths are not mapped to home directories",
    "actions_module": "Action and Script handlers do not run",
    "proxy_module": "nothing is proxied",
}
