"""bench.security: systemd-analyze, check --deploy, openssl s_client and curl output
captured on the bench host."""

from __future__ import annotations

import pytest

from bench import security

NGINX_ANALYZE = """\
  NAME                                                        DESCRIPTION                                                                                         EXPOSURE
✓ SystemCallFilter=~@swap                                     System call allow list defined for service, and @swap is not included                               
✗ SystemCallFilter=~@resources                                System call allow list defined for service, and @resources is included (e.g. ioprio_set is allowed)      0.2
✓ SystemCallFilter=~@reboot                                   System call allow list defined for service, and @reboot is not included                             
✓ SystemCallFilter=~@raw-io                                   System call allow list defined for service, and @raw-io is not included                             
✗ SystemCallFilter=~@privileged                               System call allow list defined for service, and @privileged is included (e.g. chown is allowed)          0.2
✓ SystemCallFilter=~@obsolete                                 System call allow list defined for service, and @obsolete is not included                           
✓ SystemCallFilter=~@mount                                    System call allow list defined for service, and @mount is not included                              
✓ SystemCallFilter=~@module                                   System call allow list defined for service, and @module is not included                             
✓ SystemCallFilter=~@debug                                    System call allow list defined for service, and @debug is not included                              
✓ SystemCallFilter=~@cpu-emulation                            System call allow list defined for service, and @cpu-emulation is not included                      
✓ SystemCallFilter=~@clock                                    System call allow list defined for service, and @clock is not included                              
✗ RootDirectory=/RootImage=                                   Service runs within the host's root directory                                                            0.1
  SupplementaryGroups=                                        Service runs as root, option does not matter                                                        
  RemoveIPC=                                                  Service runs as root, option does not apply                                                         
✗ User=/DynamicUser=                                          Service runs as root user                                                                                0.4
✓ RestrictRealtime=                                           Service realtime scheduling access is restricted                                                    
✓ CapabilityBoundingSet=~CAP_SYS_TIME                         Service processes cannot change the system clock                                                    
✓ NoNewPrivileges=                                            Service processes cannot acquire new privileges                                                     
✓ AmbientCapabilities=                                        Service process does not receive ambient capabilities                                               
✗ CapabilityBoundingSet=~CAP_(DAC_*|FOWNER|IPC_OWNER)         Service may override UNIX file/IPC permission checks                                                     0.2
✓ CapabilityBoundingSet=~CAP_BPF                              Service may not load BPF programs                                                                   
✓ SystemCallArchitectures=                                    Service may execute system calls only with native ABI                                               
✗ CapabilityBoundingSet=~CAP_(CHOWN|FSETID|SETFCAP)           Service may change file ownership/access mode/capabilities unrestricted                                  0.2
✗ CapabilityBoundingSet=~CAP_SET(UID|GID|PCAP)                Service may change UID/GID identities/capabilities                                                       0.3
✗ RestrictAddressFamilies=~AF_UNIX                            Service may allocate local sockets                                                                       0.1
✗ RestrictAddressFamilies=~AF_(INET|INET6)                    Service may allocate Internet sockets                                                                    0.3
✓ ProtectSystem=                                              Service has strict read-only access to the OS file hierarchy                                        
✓ ProtectProc=                                                Service has restricted access to process tree (/proc hidepid=)                                      
✓ CapabilityBoundingSet=~CAP_SYS_RAWIO                        Service has no raw I/O access                                                                       
✓ CapabilityBoundingSet=~CAP_SYS_PTRACE                       Service has no ptrace() debugging abilities                                                         
✓ CapabilityBoundingSet=~CAP_SYS_(NICE|RESOURCE)              Service has no privileges to change resource use parameters                                         
✓ CapabilityBoundingSet=~CAP_NET_ADMIN                        Service has no network configuration privileges                                                     
✓ CapabilityBoundingSet=~CAP_AUDIT_*                          Service has no audit subsystem access                                                               
✓ CapabilityBoundingSet=~CAP_SYS_ADMIN                        Service has no administrator privileges                                                             
✓ PrivateTmp=                                                 Service has no access to other software's temporary files                                           
✓ ProcSubset=                                                 Service has no access to non-process /proc files (/proc subset=)                                    
✓ CapabilityBoundingSet=~CAP_SYSLOG                           Service has no access to kernel logging                                                             
✓ ProtectHome=                                                Service has no access to home directories                                                           
✓ PrivateDevices=                                             Service has no access to hardware devices                                                           
✗ CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW) Service has elevated networking privileges                                                               0.1
✗ PrivateNetwork=                                             Service has access to the host's network                                                                 0.5
✗ PrivateUsers=                                               Service has access to other users                                                                        0.2
✗ DeviceAllow=                                                Service has a device ACL with some special devices: char-rtc:r                                           0.1
✓ KeyringMode=                                                Service doesn't share key material with other services                                              
✓ Delegate=                                                   Service does not maintain its own delegated control group subtree                                   
✗ IPAddressDeny=                                              Service does not define an IP address allow list                                                         0.2
✓ NotifyAccess=                                               Service child processes cannot alter service state                                                  
✓ ProtectClock=                                               Service cannot write to the hardware clock or system clock                                          
✓ CapabilityBoundingSet=~CAP_SYS_PACCT                        Service cannot use acct()                                                                           
✓ CapabilityBoundingSet=~CAP_KILL                             Service cannot send UNIX signals to arbitrary processes                                             
✓ ProtectKernelLogs=                                          Service cannot read from or write to the kernel log ring buffer                                     
✓ CapabilityBoundingSet=~CAP_WAKE_ALARM                       Service cannot program timers that wake up the system                                               
✓ ProtectControlGroups=                                       Service cannot modify the control group file system                                                 
✓ CapabilityBoundingSet=~CAP_LINUX_IMMUTABLE                  Service cannot mark files immutable                                                                 
✓ CapabilityBoundingSet=~CAP_IPC_LOCK                         Service cannot lock memory into RAM                                                                 
✓ ProtectKernelModules=                                       Service cannot load or read kernel modules                                                          
✓ CapabilityBoundingSet=~CAP_SYS_MODULE                       Service cannot load kernel modules                                                                  
✓ CapabilityBoundingSet=~CAP_SYS_TTY_CONFIG                   Service cannot issue vhangup()                                                                      
✓ CapabilityBoundingSet=~CAP_SYS_BOOT                         Service cannot issue reboot()                                                                       
✓ CapabilityBoundingSet=~CAP_SYS_CHROOT                       Service cannot issue chroot()                                                                       
✓ PrivateMounts=                                              Service cannot install system mounts                                                                
✓ CapabilityBoundingSet=~CAP_BLOCK_SUSPEND                    Service cannot establish wake locks                                                                 
✓ MemoryDenyWriteExecute=                                     Service cannot create writable executable memory mappings                                           
✓ RestrictNamespaces=~user                                    Service cannot create user namespaces                                                               
✓ RestrictNamespaces=~pid                                     Service cannot create process namespaces                                                            
✓ RestrictNamespaces=~net                                     Service cannot create network namespaces                                                            
✓ RestrictNamespaces=~uts                                     Service cannot create hostname namespaces                                                           
✓ RestrictNamespaces=~mnt                                     Service cannot create file system namespaces                                                        
✓ CapabilityBoundingSet=~CAP_LEASE                            Service cannot create file leases                                                                   
✓ CapabilityBoundingSet=~CAP_MKNOD                            Service cannot create device nodes                                                                  
✓ RestrictNamespaces=~cgroup                                  Service cannot create cgroup namespaces                                                             
✓ RestrictNamespaces=~ipc                                     Service cannot create IPC namespaces                                                                
✓ ProtectHostname=                                            Service cannot change system host/domainname                                                        
✓ LockPersonality=                                            Service cannot change ABI personality                                                               
✓ ProtectKernelTunables=                                      Service cannot alter kernel tunables (/proc/sys, …)                                                 
✓ RestrictAddressFamilies=~AF_PACKET                          Service cannot allocate packet sockets                                                              
✓ RestrictAddressFamilies=~AF_NETLINK                         Service cannot allocate netlink sockets                                                             
✓ RestrictAddressFamilies=~…                                  Service cannot allocate exotic sockets                                                              
✓ CapabilityBoundingSet=~CAP_MAC_*                            Service cannot adjust SMACK MAC                                                                     
✓ RestrictSUIDSGID=                                           SUID/SGID file creation by service is restricted                                                    
✗ UMask=                                                      Files created by service are group-readable by default                                                   0.1

→ Overall exposure level for nginx.service: 2.5 OK :-)
"""
DEMO_ANALYZE = """\
  NAME                                                        DESCRIPTION                                                                    EXPOSURE
✓ SystemCallFilter=~@swap                                     System call allow list defined for service, and @swap is not included          
✓ SystemCallFilter=~@resources                                System call allow list defined for service, and @resources is not included     
✓ SystemCallFilter=~@reboot                                   System call allow list defined for service, and @reboot is not included        
✓ SystemCallFilter=~@raw-io                                   System call allow list defined for service, and @raw-io is not included        
✓ SystemCallFilter=~@privileged                               System call allow list defined for service, and @privileged is not included    
✓ SystemCallFilter=~@obsolete                                 System call allow list defined for service, and @obsolete is not included      
✓ SystemCallFilter=~@mount                                    System call allow list defined for service, and @mount is not included         
✓ SystemCallFilter=~@module                                   System call allow list defined for service, and @module is not included        
✓ SystemCallFilter=~@debug                                    System call allow list defined for service, and @debug is not included         
✓ SystemCallFilter=~@cpu-emulation                            System call allow list defined for service, and @cpu-emulation is not included 
✓ SystemCallFilter=~@clock                                    System call allow list defined for service, and @clock is not included         
✓ RemoveIPC=                                                  Service user cannot leave SysV IPC objects around                              
✗ RootDirectory=/RootImage=                                   Service runs within the host's root directory                                       0.1
✓ User=/DynamicUser=                                          Service runs under a static non-root user identity                             
✓ RestrictRealtime=                                           Service realtime scheduling access is restricted                               
✓ CapabilityBoundingSet=~CAP_SYS_TIME                         Service processes cannot change the system clock                               
✓ NoNewPrivileges=                                            Service processes cannot acquire new privileges                                
✓ AmbientCapabilities=                                        Service process does not receive ambient capabilities                          
✓ CapabilityBoundingSet=~CAP_BPF                              Service may not load BPF programs                                              
✓ SystemCallArchitectures=                                    Service may execute system calls only with native ABI                          
✗ RestrictAddressFamilies=~AF_UNIX                            Service may allocate local sockets                                                  0.1
✗ RestrictAddressFamilies=~AF_(INET|INET6)                    Service may allocate Internet sockets                                               0.3
✓ ProtectSystem=                                              Service has strict read-only access to the OS file hierarchy                   
✓ ProtectProc=                                                Service has restricted access to process tree (/proc hidepid=)                 
✓ SupplementaryGroups=                                        Service has no supplementary groups                                            
✓ CapabilityBoundingSet=~CAP_SYS_RAWIO                        Service has no raw I/O access                                                  
✓ CapabilityBoundingSet=~CAP_SYS_PTRACE                       Service has no ptrace() debugging abilities                                    
✓ CapabilityBoundingSet=~CAP_SYS_(NICE|RESOURCE)              Service has no privileges to change resource use parameters                    
✓ CapabilityBoundingSet=~CAP_NET_ADMIN                        Service has no network configuration privileges                                
✓ CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW) Service has no elevated networking privileges                                  
✓ CapabilityBoundingSet=~CAP_AUDIT_*                          Service has no audit subsystem access                                          
✓ CapabilityBoundingSet=~CAP_SYS_ADMIN                        Service has no administrator privileges                                        
✓ PrivateTmp=                                                 Service has no access to other software's temporary files                      
✓ ProcSubset=                                                 Service has no access to non-process /proc files (/proc subset=)               
✓ CapabilityBoundingSet=~CAP_SYSLOG                           Service has no access to kernel logging                                        
✓ ProtectHome=                                                Service has no access to home directories                                      
✓ PrivateDevices=                                             Service has no access to hardware devices                                      
✗ PrivateNetwork=                                             Service has access to the host's network                                            0.5
✗ PrivateUsers=                                               Service has access to other users                                                   0.2
✗ DeviceAllow=                                                Service has a device ACL with some special devices: char-rtc:r                      0.1
✓ KeyringMode=                                                Service doesn't share key material with other services                         
✓ Delegate=                                                   Service does not maintain its own delegated control group subtree              
✗ IPAddressDeny=                                              Service does not define an IP address allow list                                    0.2
✓ NotifyAccess=                                               Service child processes cannot alter service state                             
✓ ProtectClock=                                               Service cannot write to the hardware clock or system clock                     
✓ CapabilityBoundingSet=~CAP_SYS_PACCT                        Service cannot use acct()                                                      
✓ CapabilityBoundingSet=~CAP_KILL                             Service cannot send UNIX signals to arbitrary processes                        
✓ ProtectKernelLogs=                                          Service cannot read from or write to the kernel log ring buffer                
✓ CapabilityBoundingSet=~CAP_WAKE_ALARM                       Service cannot program timers that wake up the system                          
✓ CapabilityBoundingSet=~CAP_(DAC_*|FOWNER|IPC_OWNER)         Service cannot override UNIX file/IPC permission checks                        
✓ ProtectControlGroups=                                       Service cannot modify the control group file system                            
✓ CapabilityBoundingSet=~CAP_LINUX_IMMUTABLE                  Service cannot mark files immutable                                            
✓ CapabilityBoundingSet=~CAP_IPC_LOCK                         Service cannot lock memory into RAM                                            
✓ ProtectKernelModules=                                       Service cannot load or read kernel modules                                     
✓ CapabilityBoundingSet=~CAP_SYS_MODULE                       Service cannot load kernel modules                                             
✓ CapabilityBoundingSet=~CAP_SYS_TTY_CONFIG                   Service cannot issue vhangup()                                                 
✓ CapabilityBoundingSet=~CAP_SYS_BOOT                         Service cannot issue reboot()                                                  
✓ CapabilityBoundingSet=~CAP_SYS_CHROOT                       Service cannot issue chroot()                                                  
✓ PrivateMounts=                                              Service cannot install system mounts                                           
✓ CapabilityBoundingSet=~CAP_BLOCK_SUSPEND                    Service cannot establish wake locks                                            
✓ MemoryDenyWriteExecute=                                     Service cannot create writable executable memory mappings                      
✓ RestrictNamespaces=~user                                    Service cannot create user namespaces                                          
✓ RestrictNamespaces=~pid                                     Service cannot create process namespaces                                       
✓ RestrictNamespaces=~net                                     Service cannot create network namespaces                                       
✓ RestrictNamespaces=~uts                                     Service cannot create hostname namespaces                                      
✓ RestrictNamespaces=~mnt                                     Service cannot create file system namespaces                                   
✓ CapabilityBoundingSet=~CAP_LEASE                            Service cannot create file leases                                              
✓ CapabilityBoundingSet=~CAP_MKNOD                            Service cannot create device nodes                                             
✓ RestrictNamespaces=~cgroup                                  Service cannot create cgroup namespaces                                        
✓ RestrictNamespaces=~ipc                                     Service cannot create IPC namespaces                                           
✓ ProtectHostname=                                            Service cannot change system host/domainname                                   
✓ CapabilityBoundingSet=~CAP_(CHOWN|FSETID|SETFCAP)           Service cannot change file ownership/access mode/capabilities                  
✓ CapabilityBoundingSet=~CAP_SET(UID|GID|PCAP)                Service cannot change UID/GID identities/capabilities                          
✓ LockPersonality=                                            Service cannot change ABI personality                                          
✓ ProtectKernelTunables=                                      Service cannot alter kernel tunables (/proc/sys, …)                            
✓ RestrictAddressFamilies=~AF_PACKET                          Service cannot allocate packet sockets                                         
✓ RestrictAddressFamilies=~AF_NETLINK                         Service cannot allocate netlink sockets                                        
✓ RestrictAddressFamilies=~…                                  Service cannot allocate exotic sockets                                         
✓ CapabilityBoundingSet=~CAP_MAC_*                            Service cannot adjust SMACK MAC                                                
✓ RestrictSUIDSGID=                                           SUID/SGID file creation by service is restricted                               
✗ UMask=                                                      Files created by service are group-readable by default                              0.1

→ Overall exposure level for demo.service: 1.2 OK :-)
"""
CHECK_CLEAN = "System check identified no issues (0 silenced).\n"
# check --deploy with the HTTPS settings turned off in the environment.
CHECK_ISSUES = """\
System check identified some issues:

WARNINGS:
?: (security.W004) You have not set a value for the SECURE_HSTS_SECONDS setting. If your entire site is served only over SSL, you may want to consider setting a value and enabling HTTP Strict Transport Security. Be sure to read the documentation first; enabling HSTS carelessly can cause serious, irreversible problems.
?: (security.W008) Your SECURE_SSL_REDIRECT setting is not set to True. Unless your site should be available over both SSL and non-SSL connections, you may want to either set this setting True or configure a load balancer or reverse-proxy server to redirect all connections to HTTPS.
?: (security.W012) SESSION_COOKIE_SECURE is not set to True. Using a secure-only session cookie makes it more difficult for network traffic sniffers to hijack user sessions.

System check identified 3 issues (0 silenced).
"""
# s_client -tls1 -cipher DEFAULT@SECLEVEL=0 against the site (exit 1) and the control (exit 0).
TLS1_SITE = """\
CONNECTED(00000003)
---
no peer certificate available
---
No client certificate CA names sent
---
SSL handshake has read 7 bytes and written 122 bytes
Verification: OK
---
New, (NONE), Cipher is (NONE)
Secure Renegotiation IS NOT supported
Compression: NONE
Expansion: NONE
No ALPN negotiated
SSL-Session:
    Protocol  : TLSv1
    Cipher    : 0000
    Session-ID: 
    Session-ID-ctx: 
    Master-Key: 
    PSK identity: None
    PSK identity hint: None
    SRP username: None
    Start Time: 1795379958
    Timeout   : 7200 (sec)
    Verify return code: 0 (ok)
    Extended master secret: no
---
4087BD3EBA7F0000:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:../ssl/record/rec_layer_s3.c:1601:SSL alert number 70
"""
TLS1_CONTROL = """\
CONNECTED(00000003)
---
Certificate chain
 0 s:CN = localhost
   i:CN = localhost
   a:PKEY: id-ecPublicKey, 256 (bit); sigalg: ecdsa-with-SHA256
   v:NotBefore: Nov 22 20:32:02 2026 GMT; NotAfter: Nov 22 20:32:02 2027 GMT
---
Server certificate
-----BEGIN CERTIFICATE-----
(certificate lines left out)
-----END CERTIFICATE-----
subject=CN = localhost
issuer=CN = localhost
---
No client certificate CA names sent
Peer signing digest: SHA1
Peer signature type: ECDSA
Server Temp Key: X25519, 253 bits
---
SSL handshake has read 896 bytes and written 227 bytes
Verification error: self-signed certificate
---
New, TLSv1.0, Cipher is ECDHE-ECDSA-AES256-SHA
Server public key is 256 bit
Secure Renegotiation IS supported
Compression: NONE
Expansion: NONE
No ALPN negotiated
SSL-Session:
    Protocol  : TLSv1
    Cipher    : ECDHE-ECDSA-AES256-SHA
    Session-ID: A3C81459B6638F19ADA1A48E59DCC9593DB39F3F76242D62E0FAE3429EA797D5
    Session-ID-ctx: 
    Master-Key: CC9167DA3CC87B4D5CECEB2F75BB57B35682C9555AD8AEFCA3179161893565AC713F34B02F2E1FCD05A05B90E123086A
    PSK identity: None
    PSK identity hint: None
    SRP username: None
    TLS session ticket lifetime hint: 300 (seconds)
    TLS session ticket:

    Start Time: 1795379959
    Timeout   : 7200 (sec)
    Verify return code: 18 (self-signed certificate)
    Extended master secret: yes
---
depth=0 CN = localhost
verify error:num=18:self-signed certificate
verify return:1
depth=0 CN = localhost
verify return:1
DONE
"""
TLS13_SITE = """\
CONNECTED(00000003)
---
Certificate chain
 0 s:CN = localhost
   i:CN = localhost
   a:PKEY: id-ecPublicKey, 256 (bit); sigalg: ecdsa-with-SHA256
   v:NotBefore: Nov 22 20:32:02 2026 GMT; NotAfter: Nov 22 20:32:02 2027 GMT
---
Server certificate
-----BEGIN CERTIFICATE-----
(certificate lines left out)
-----END CERTIFICATE-----
subject=CN = localhost
issuer=CN = localhost
---
No client certificate CA names sent
Peer signing digest: SHA256
Peer signature type: ECDSA
Server Temp Key: X25519, 253 bits
---
SSL handshake has read 780 bytes and written 323 bytes
Verification error: self-signed certificate
---
New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384
Server public key is 256 bit
Secure Renegotiation IS NOT supported
Compression: NONE
Expansion: NONE
No ALPN negotiated
Early data was not sent
Verify return code: 18 (self-signed certificate)
---
---
"""
# OpenSSL 3 refusing TLS 1.0 itself (-cipher DEFAULT@SECLEVEL=3): the client's refusal.
TLS1_CLIENT_REFUSES = """\
40073B25647F0000:error:0A0000BF:SSL routines:tls_setup_handshake:no protocols available:../ssl/statem/statem_lib.c:102:
CONNECTED(00000003)
---
no peer certificate available
---
No client certificate CA names sent
---
SSL handshake has read 0 bytes and written 7 bytes
Verification: OK
---
New, (NONE), Cipher is (NONE)
Secure Renegotiation IS NOT supported
Compression: NONE
Expansion: NONE
No ALPN negotiated
Early data was not sent
Verify return code: 0 (ok)
---
"""
# curl --http1.1 -D - of a page and of a hashed static file.
PAGE_HEAD = """\
HTTP/1.1 200 OK
Server: nginx
Date: Sun, 22 Nov 2026 20:39:20 GMT
Content-Type: text/html; charset=utf-8
Content-Length: 57312
Connection: keep-alive
Vary: Accept-Encoding
X-Cache: miss
X-Frame-Options: DENY
Strict-Transport-Security: max-age=31536000; includeSubDomains; preload
X-Content-Type-Options: nosniff
Referrer-Policy: same-origin
Cross-Origin-Opener-Policy: same-origin
X-App-Release: 20261122T203131Z-036209295856
Content-Security-Policy: frame-ancestors 'none'
Permissions-Policy: accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()

"""
STATIC_HEAD = """\
HTTP/1.1 200 OK
Server: nginx
Date: Sun, 22 Nov 2026 20:39:20 GMT
Content-Type: text/css
Content-Length: 984
Last-Modified: Sun, 22 Nov 2026 20:32:42 GMT
Connection: keep-alive
Vary: Accept-Encoding
ETag: "6b03516a-3d8"
Cache-Control: public, max-age=31536000, immutable
X-Content-Type-Options: nosniff
X-Frame-Options: DENY
Content-Security-Policy: frame-ancestors 'none'
Referrer-Policy: same-origin
Permissions-Policy: accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()
Strict-Transport-Security: max-age=63072000
Accept-Ranges: bytes

"""


def test_exposure_of_nginx():
    exposure = security.exposure(NGINX_ANALYZE)
    assert (exposure.unit, exposure.score, exposure.level) == ("nginx.service", 2.5, "OK")
    assert len(exposure.unmet) == 15
    assert "CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW)" in exposure.unmet
    assert "PrivateNetwork" in exposure.unmet and "UMask" in exposure.unmet


def test_exposure_of_gunicorn():
    exposure = security.exposure(DEMO_ANALYZE)
    assert (exposure.unit, exposure.score) == ("demo.service", 1.2)
    assert "SystemCallFilter=~@swap" not in exposure.unmet  # a ✓ line
    assert len(exposure.unmet) == 8


def test_exposure_needs_the_overall_line():
    with pytest.raises(ValueError):
        security.exposure(NGINX_ANALYZE.split("→")[0])


def test_check_deploy():
    assert security.check_deploy(CHECK_CLEAN) == (0, [])
    assert security.check_deploy(CHECK_ISSUES) == (3, ["security.W004", "security.W008", "security.W012"])
    with pytest.raises(ValueError):
        security.check_deploy("Traceback (most recent call last):\n")


def test_tls_refused_by_the_server():
    probe = security.handshake("TLSv1", 1, TLS1_SITE)
    assert not probe.accepted
    assert probe.reason == "tlsv1 alert protocol version"
    assert probe.cipher == ""


def test_tls_accepted():
    assert security.handshake("TLSv1", 0, TLS1_CONTROL).accepted
    probe = security.handshake("TLSv1.3", 0, TLS13_SITE)
    assert probe.accepted and probe.cipher == "TLS_AES_256_GCM_SHA384"


def test_tls_refused_by_the_client_names_it():
    probe = security.handshake("TLSv1", 1, TLS1_CLIENT_REFUSES)
    assert not probe.accepted
    assert probe.reason == "no protocols available"


def test_response_headers():
    status, headers = security.response_headers(PAGE_HEAD)
    assert status == "HTTP/1.1 200 OK"
    names = [n for n, _ in headers]
    assert names.count("Strict-Transport-Security") == 1
    assert ("X-Cache", "miss") in headers
    status, headers = security.response_headers(STATIC_HEAD.replace("\n", "\r\n"))
    assert dict(headers)["Cache-Control"] == "public, max-age=31536000, immutable"
    assert dict(headers)["Strict-Transport-Security"] == "max-age=63072000"


def test_response_headers_of_the_last_response_after_a_redirect():
    redirect = "HTTP/1.1 301 Moved Permanently\nLocation: https://localhost/products/\n\n"
    status, headers = security.response_headers(redirect + PAGE_HEAD)
    assert status == "HTTP/1.1 200 OK"
    assert "Location" not in dict(headers)
